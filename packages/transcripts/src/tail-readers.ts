import type { SessionPreviewItem } from "@clawkeep/schema";
import {
  BackwardLineReader,
  isBlankLine,
  parseJsonObjectLine,
  type TailScanOptions,
} from "./line-reader.ts";
import { clampPreviewLimits, extractMessageText, toSessionPreviewItem } from "./message-text.ts";
import { openTranscriptSourceForReader, type TranscriptSource } from "./transcript-source.ts";

/** What every tail read reports besides its answer. */
export interface TailReadInfo {
  /** The transcript read, or null when none exists (or it was refused). */
  file: string | null;
  /**
   * A transcript that was not read because its real path leads out of its sessions dir (a
   * symlink out: `PATH_ESCAPE`); the answer is then empty, as for a missing transcript.
   */
  escapedPath: string | null;
  /** True when the scan stopped at `maxScanBytes` before it had everything asked for. */
  truncated: boolean;
  /** Non-blank lines that were not JSON objects (a torn last line, garbage); they were skipped. */
  malformedLines: number;
  /** Bytes read from the end of the file. */
  bytesScanned: number;
}

/**
 * Scans a transcript from its end and hands each message object (the `message` of an entry) to
 * `visit`, newest first, until `visit` returns true or the scan cap is reached.
 */
async function scanMessagesBackward(
  source: TranscriptSource,
  options: TailScanOptions,
  visit: (message: unknown) => boolean,
): Promise<TailReadInfo> {
  const { opened, escapedPath } = await openTranscriptSourceForReader(source);
  const info: TailReadInfo = {
    file: opened?.file ?? null,
    escapedPath,
    truncated: false,
    malformedLines: 0,
    bytesScanned: 0,
  };
  if (opened === null) return info;
  const { handle } = opened;
  try {
    const { size } = await handle.stat();
    const reader = new BackwardLineReader(handle, size, options);
    for (;;) {
      const line = await reader.previousLine();
      if (line === null) break;
      if (isBlankLine(line)) continue;
      const record = parseJsonObjectLine(line);
      if (record === undefined) {
        info.malformedLines += 1;
        continue;
      }
      const message = record.message;
      if (typeof message !== "object" || message === null) continue;
      if (visit(message)) break;
    }
    info.truncated = reader.truncated;
    info.bytesScanned = reader.bytesRead;
    return info;
  } finally {
    await handle.close();
  }
}

/** Options of {@link readTranscriptPreview}. */
export interface TranscriptPreviewOptions extends TailScanOptions {
  /** How many items to return, clamped to 1..50. @default 12 */
  maxItems?: number;
  /** Longest item text, clamped to 20..2000; longer texts end in `...`. @default 240 */
  maxChars?: number;
}

/** The newest preview items of a transcript, oldest first, and how the read went. */
export interface TranscriptPreview extends TailReadInfo {
  items: SessionPreviewItem[];
}

/**
 * The last `maxItems` preview items of a transcript in chronological order (see
 * `toSessionPreviewItem` for roles and texts; messages without any text are skipped and do not
 * count). Reads backwards from the end only as far as it must, up to `maxScanBytes`.
 */
export async function readTranscriptPreview(
  source: TranscriptSource,
  options: TranscriptPreviewOptions = {},
): Promise<TranscriptPreview> {
  const { maxItems, maxChars } = clampPreviewLimits(
    options.maxItems ?? 12,
    options.maxChars ?? 240,
  );
  const items: SessionPreviewItem[] = [];
  const info = await scanMessagesBackward(source, options, (message) => {
    const item = toSessionPreviewItem(message, maxChars);
    if (item !== null) items.push(item);
    return items.length >= maxItems;
  });
  return { ...info, items: items.reverse() };
}

/** {@link readTranscriptPreview}, returning the items only (openclaw's name and result). */
export async function readSessionPreviewItemsFromTranscript(
  source: TranscriptSource,
  options: TranscriptPreviewOptions = {},
): Promise<SessionPreviewItem[]> {
  return (await readTranscriptPreview(source, options)).items;
}

/** The last user or assistant message with text. */
export interface LastTranscriptMessage extends TailReadInfo {
  message: { role: "user" | "assistant"; text: string } | null;
}

/**
 * The text of the newest `user` or `assistant` message that has text (see `extractMessageText`);
 * other roles and messages without text are passed over. Reads backwards only as far as it must.
 */
export async function readLastTranscriptMessage(
  source: TranscriptSource,
  options: TailScanOptions = {},
): Promise<LastTranscriptMessage> {
  let found: LastTranscriptMessage["message"] = null;
  const info = await scanMessagesBackward(source, options, (message) => {
    const role = (message as { role?: unknown }).role;
    if (role !== "user" && role !== "assistant") return false;
    const text = extractMessageText(message);
    if (text === null) return false;
    found = { role, text };
    return true;
  });
  return { ...info, message: found };
}

/** {@link readLastTranscriptMessage}, returning the text or null (openclaw's name and result). */
export async function readLastMessagePreviewFromTranscript(
  source: TranscriptSource,
  options: TailScanOptions = {},
): Promise<string | null> {
  return (await readLastTranscriptMessage(source, options)).message?.text ?? null;
}
