import { parseJsonObjectLine } from "./line-reader.ts";
import { extractMessageText } from "./message-text.ts";
import { openTranscriptForReading } from "./open-transcript.ts";
import { findTranscriptFile, type TranscriptSource } from "./transcript-source.ts";

/** Options of {@link readFirstUserMessageFromTranscript}. */
export interface FirstUserMessageOptions {
  /** Also accept user messages that came from another session. @default false */
  includeInterSession?: boolean;
  /** How many bytes from the start of the file are read. @default 8192 */
  maxBytes?: number;
  /** How many lines of those bytes are looked at. @default 10 */
  maxLines?: number;
}

/**
 * The text of the first user message of a transcript, for titles: the first `role: "user"`
 * message with text within the first `maxLines` lines and `maxBytes` bytes, skipping messages whose
 * `provenance.kind` is `inter_session` unless `includeInterSession`. Null when there is none or no
 * transcript. The window is openclaw's, so titles match; a title never needs more.
 */
export async function readFirstUserMessageFromTranscript(
  source: TranscriptSource,
  options: FirstUserMessageOptions = {},
): Promise<string | null> {
  const maxBytes = Math.max(1, Math.floor(options.maxBytes ?? 8192));
  const maxLines = Math.max(1, Math.floor(options.maxLines ?? 10));
  const file = await findTranscriptFile(source);
  if (file === null) return null;
  const handle = await openTranscriptForReading(file);
  if (handle === null) return null;
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(maxBytes);
    let filled = 0;
    while (filled < maxBytes) {
      const { bytesRead } = await handle.read(buffer, filled, maxBytes - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    head = buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }

  let start = 0;
  for (let index = 0; index < maxLines && start < head.length; index += 1) {
    const newline = head.indexOf(0x0a, start);
    const end = newline === -1 ? head.length : newline;
    const record = parseJsonObjectLine(head.subarray(start, end));
    start = end + 1;
    const message = record?.message as Record<string, unknown> | undefined;
    if (typeof message !== "object" || message === null || message.role !== "user") continue;
    const provenance = message.provenance as { kind?: unknown } | undefined;
    if (provenance?.kind === "inter_session" && options.includeInterSession !== true) continue;
    const text = extractMessageText(message);
    if (text !== null) return text;
  }
  return null;
}
