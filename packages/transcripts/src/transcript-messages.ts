import type { AgentMessage } from "@clawkeep/schema";
import {
  BackwardLineReader,
  isBlankLine,
  parseJsonObjectLine,
  readLinesForward,
  type TailScanOptions,
} from "./line-reader.ts";
import { openTranscriptSourceForReader, type TranscriptSource } from "./transcript-source.ts";

/** The system message a `compaction` entry stands for in a message history. */
export interface TranscriptCompactionMarker {
  role: "system";
  content: [{ type: "text"; text: "Compaction" }];
  /** The entry's time in epoch milliseconds. */
  timestamp: number;
  __openclaw: { kind: "compaction"; id: unknown };
}

/**
 * A message as stored in the transcript, typed with `@clawkeep/schema`'s `AgentMessage` (unknown
 * roles included), or the marker of a compaction. Lines are not validated: an object is passed on
 * as read, so parse it with `AgentMessageSchema` before relying on a field's type.
 */
export type TranscriptMessage = AgentMessage | TranscriptCompactionMarker;

/** Options of {@link readTranscriptMessages}. */
export interface ReadTranscriptMessagesOptions extends TailScanOptions {
  /**
   * Only the newest `limit` messages (still yielded oldest first). They are found by reading
   * backwards from the end, so the cost follows `limit`, not the file size.
   * @default all messages, read forwards in one pass
   */
  limit?: number;
  /** Clock for the timestamp of a compaction marker without a readable one. @default Date.now */
  now?: () => number;
}

/** Counters of a {@link TranscriptMessageStream}, final once iteration has ended. */
export interface TranscriptMessageStats {
  /** The transcript read, or null when none exists (or it was refused). */
  file: string | null;
  /**
   * A transcript that was not read because its real path leads out of its sessions dir (a
   * symlink out: `PATH_ESCAPE`); nothing is yielded, as for a missing transcript.
   */
  escapedPath: string | null;
  /** Non-blank lines that were not JSON objects; they were skipped. */
  malformedLines: number;
  /** True when a `limit` read stopped at `maxScanBytes` before it found `limit` messages. */
  truncated: boolean;
}

/** The messages of a transcript, oldest first, one at a time. */
export interface TranscriptMessageStream extends AsyncIterable<TranscriptMessage> {
  readonly stats: TranscriptMessageStats;
}

/**
 * The marker a `compaction` entry stands for in a message history: a system message with the text
 * `Compaction` and `__openclaw: {kind: "compaction", id}`, as openclaw's chat history shows it.
 */
function compactionMarker(
  entry: Record<string, unknown>,
  now: () => number,
): TranscriptCompactionMarker {
  const parsed = typeof entry.timestamp === "string" ? Date.parse(entry.timestamp) : Number.NaN;
  return {
    role: "system",
    content: [{ type: "text", text: "Compaction" }],
    timestamp: Number.isNaN(parsed) ? now() : parsed,
    __openclaw: { kind: "compaction", id: entry.id },
  };
}

function messageOf(
  record: Record<string, unknown>,
  now: () => number,
): TranscriptMessage | undefined {
  const message = record.message;
  if (typeof message === "object" && message !== null && !Array.isArray(message)) {
    // Not validated (see TranscriptMessage): the stream passes on what the file holds.
    return message as AgentMessage;
  }
  if (record.type === "compaction") return compactionMarker(record, now);
  return undefined;
}

/**
 * Streams every message of a transcript (each entry's `message`, and a marker per `compaction`
 * entry) for history and export, with memory bounded by the longest line. Malformed lines are
 * skipped and counted in `stats`. A missing transcript (or one refused, see `stats.escapedPath`)
 * yields nothing.
 */
export function readTranscriptMessages(
  source: TranscriptSource,
  options: ReadTranscriptMessagesOptions = {},
): TranscriptMessageStream {
  const stats: TranscriptMessageStats = {
    file: null,
    escapedPath: null,
    malformedLines: 0,
    truncated: false,
  };
  const now = options.now ?? Date.now;
  const limit = options.limit === undefined ? undefined : Math.max(0, Math.floor(options.limit));

  async function* generate(): AsyncGenerator<TranscriptMessage> {
    if (limit === 0) return;
    const { opened, escapedPath } = await openTranscriptSourceForReader(source);
    stats.escapedPath = escapedPath;
    if (opened === null) return;
    const { handle } = opened;
    stats.file = opened.file;
    try {
      const { size } = await handle.stat();
      if (limit === undefined) {
        for await (const line of readLinesForward(handle, 0, size, options.chunkBytes)) {
          if (isBlankLine(line.bytes)) continue;
          const record = parseJsonObjectLine(line.bytes);
          if (record === undefined) {
            stats.malformedLines += 1;
            continue;
          }
          const message = messageOf(record, now);
          if (message !== undefined) yield message;
        }
        return;
      }
      const newestFirst: TranscriptMessage[] = [];
      const reader = new BackwardLineReader(handle, size, options);
      while (newestFirst.length < limit) {
        const line = await reader.previousLine();
        if (line === null) break;
        if (isBlankLine(line)) continue;
        const record = parseJsonObjectLine(line);
        if (record === undefined) {
          stats.malformedLines += 1;
          continue;
        }
        const message = messageOf(record, now);
        if (message !== undefined) newestFirst.push(message);
      }
      stats.truncated = reader.truncated;
      for (let index = newestFirst.length - 1; index >= 0; index -= 1) {
        yield newestFirst[index] as TranscriptMessage;
      }
    } finally {
      await handle.close();
    }
  }

  return { stats, [Symbol.asyncIterator]: () => generate() };
}
