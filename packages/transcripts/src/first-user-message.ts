import { isBlankLine, parseJsonObjectLine } from "./line-reader.ts";
import { extractMessageText } from "./message-text.ts";
import { openTranscriptSourceForReader, type TranscriptSource } from "./transcript-source.ts";

/** Options of {@link readFirstUserMessage}. */
export interface FirstUserMessageOptions {
  /** Also accept user messages that came from another session. @default false */
  includeInterSession?: boolean;
  /** How many bytes from the start of the file are read. @default 8192 */
  maxBytes?: number;
  /** How many lines of those bytes are looked at. @default 10 */
  maxLines?: number;
}

/** The first user message of a transcript, and how the read went. */
export interface FirstUserMessage {
  /** The title text, or null when the window holds no user message with text. */
  text: string | null;
  /** The transcript read, or null when none exists (or it was refused). */
  file: string | null;
  /**
   * A transcript that was not read because its real path leads out of its sessions dir (a
   * symlink out: `PATH_ESCAPE`); `text` is then null, as for a missing transcript.
   */
  escapedPath: string | null;
  /**
   * Non-blank lines before the answer that were not JSON objects; they were skipped. A line cut
   * by the end of the window is not counted.
   */
  malformedLines: number;
  /** True when the window (`maxBytes`, `maxLines`) ended before the file did and held no answer. */
  truncated: boolean;
  /** Bytes read from the start of the file. */
  bytesScanned: number;
}

/**
 * The text of the first user message of a transcript, for titles: the first `role: "user"`
 * message with text within the first `maxLines` lines and `maxBytes` bytes, skipping messages whose
 * `provenance.kind` is `inter_session` unless `includeInterSession`. `text` is null when there is
 * none or no transcript. The window is openclaw's, so titles match; a title never needs more.
 */
export async function readFirstUserMessage(
  source: TranscriptSource,
  options: FirstUserMessageOptions = {},
): Promise<FirstUserMessage> {
  const maxBytes = Math.max(1, Math.floor(options.maxBytes ?? 8192));
  const maxLines = Math.max(1, Math.floor(options.maxLines ?? 10));
  const { opened, escapedPath } = await openTranscriptSourceForReader(source);
  const result: FirstUserMessage = {
    text: null,
    file: opened?.file ?? null,
    escapedPath,
    malformedLines: 0,
    truncated: false,
    bytesScanned: 0,
  };
  if (opened === null) return result;
  let head: Buffer;
  let size: number;
  try {
    size = (await opened.handle.stat()).size;
    const buffer = Buffer.alloc(maxBytes);
    let filled = 0;
    while (filled < maxBytes) {
      const { bytesRead } = await opened.handle.read(buffer, filled, maxBytes - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    head = buffer.subarray(0, filled);
  } finally {
    await opened.handle.close();
  }
  result.bytesScanned = head.length;

  let start = 0;
  for (let index = 0; index < maxLines && start < head.length; index += 1) {
    const newline = head.indexOf(0x0a, start);
    const end = newline === -1 ? head.length : newline;
    const line = head.subarray(start, end);
    start = end + 1;
    const record = parseJsonObjectLine(line);
    if (record === undefined) {
      const cutByWindow = newline === -1 && head.length < size;
      if (!cutByWindow && !isBlankLine(line)) result.malformedLines += 1;
      continue;
    }
    const message = record.message as Record<string, unknown> | undefined;
    if (typeof message !== "object" || message === null || message.role !== "user") continue;
    const provenance = message.provenance as { kind?: unknown } | undefined;
    if (provenance?.kind === "inter_session" && options.includeInterSession !== true) continue;
    const text = extractMessageText(message);
    if (text !== null) return { ...result, text };
  }
  result.truncated = start < size;
  return result;
}

/** {@link readFirstUserMessage}, returning the text or null (openclaw's name and result). */
export async function readFirstUserMessageFromTranscript(
  source: TranscriptSource,
  options: FirstUserMessageOptions = {},
): Promise<string | null> {
  return (await readFirstUserMessage(source, options)).text;
}
