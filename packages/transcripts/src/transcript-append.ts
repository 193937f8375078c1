import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import {
  type AgentMessage,
  SessionsError,
  TRANSCRIPT_VERSION,
  type TranscriptEntry,
} from "@clawkeep/schema";
import { BackwardLineReader, isBlankLine, parseJsonObjectLine } from "./line-reader.ts";
import { openTranscriptForAppending } from "./open-transcript.ts";
import { type TranscriptLockOptions, withTranscriptLock } from "./transcript-lock.ts";
import { assertRealPathInside } from "./transcript-paths.ts";

/** `T` without the keys `K`, for each member of a union; index signatures are kept. */
type Without<T, K extends PropertyKey> = T extends unknown
  ? { [P in keyof T as P extends K ? never : P]: T[P] }
  : never;

/**
 * An entry to append: one of `@clawkeep/schema`'s `TranscriptEntry` shapes (an unknown `type` with
 * any payload included) without the fields that are filled in. `id` and `timestamp` are filled in
 * (an `id` given is replaced); `parentId` defaults to the current leaf.
 */
export type TranscriptEntryInput = Without<TranscriptEntry, "id" | "parentId" | "timestamp"> & {
  /** Replaced: ids are the appender's to keep unique. */
  id?: string;
  /** The entry this one follows. @default the current leaf (the last entry of the file) */
  parentId?: string | null;
  /** ISO time of the entry. @default now */
  timestamp?: string;
};

/**
 * A message to append: one of `@clawkeep/schema`'s `AgentMessage` shapes (an unknown `role`
 * included), with `timestamp` (epoch ms) filled in when missing.
 */
export type TranscriptMessageInput = Without<AgentMessage, "timestamp"> & { timestamp?: number };

/** Options of {@link appendTranscriptEntry}. */
export interface AppendTranscriptOptions {
  /**
   * Session id written into the header when the file is new.
   * @default the file name without `.jsonl` and without a `-topic-…` suffix
   */
  sessionId?: string;
  /** Working directory written into the header when the file is new. @default process.cwd() */
  cwd?: string;
  /**
   * The directory the transcript must really be inside, symlinks resolved; a file or parent that
   * resolves elsewhere is refused with `PATH_ESCAPE`.
   * @default the transcript's own directory
   */
  sessionsDir?: string;
  /** How the transcript lock is taken. */
  lock?: TranscriptLockOptions;
  /**
   * How many bytes of the file's tail are read whole while the current leaf is looked for. A
   * last line longer than this is not read whole: its start is found by a backward search for
   * the previous newline and its `id` taken from its first 16 KiB; when that fails (no top-level
   * `id` there, or a torn line), the entry before it is the leaf.
   * @default 67108864 (64 MiB)
   */
  maxScanBytes?: number;
  /** Clock. @default Date.now */
  now?: () => number;
}

/** What {@link appendTranscriptEntry} wrote. */
export interface AppendedTranscriptEntry {
  file: string;
  /** The entry line as written. */
  entry: Record<string, unknown>;
  /** True when the file was new (or empty) and a header was written first. */
  createdFile: boolean;
}

/** A random 8-hex-character entry id, the id format of v3 transcripts. */
export function createTranscriptEntryId(): string {
  return randomBytes(4).toString("hex");
}

function sessionIdFromFileName(file: string): string {
  const name = basename(file);
  const stem = name.endsWith(".jsonl") ? name.slice(0, -".jsonl".length) : name;
  const topic = stem.indexOf("-topic-");
  return topic > 0 ? stem.slice(0, topic) : stem;
}

/** How much of a line too long to scan whole is read to find its `id`. */
const LINE_PREFIX_BYTES = 16 * 1024;
/** Reads of the backward search for where a too-long line starts. */
const LINE_START_CHUNK_BYTES = 1024 * 1024;
/** An id as the writers we know make them: 8+ hex characters (v3) or a UUID (v2). */
const ENTRY_ID = /^(?:[0-9a-f]{8,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
const NEWLINE = 0x0a;

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * Where the line holding byte `end - 1` starts: the byte after the previous newline before `end`,
 * or 0. Reads backwards in fixed-size chunks and only looks for the newline byte, so memory stays
 * constant however long the line is.
 */
async function findLineStart(handle: FileHandle, end: number): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(LINE_START_CHUNK_BYTES, Math.max(1, end)));
  let position = end;
  while (position > 0) {
    const length = Math.min(buffer.length, position);
    const start = position - length;
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const newline = buffer.subarray(0, filled).lastIndexOf(NEWLINE);
    if (newline !== -1) return start + newline + 1;
    position = start;
  }
  return 0;
}

/**
 * The top-level `id` of a JSON object whose first bytes are `prefix`, when it is an entry id and
 * appears in the prefix; undefined otherwise (and for a `session` header). Walks the prefix as
 * JSON tokens, tracking nesting, so an `id` inside a nested object or array is never taken.
 */
function topLevelEntryIdFromPrefix(prefix: Buffer): string | undefined {
  const text = prefix.toString("latin1");
  let index = 0;
  const skipSpace = () => {
    while (index < text.length && " \t\r\n".includes(text[index] as string)) index += 1;
  };
  /** The raw JSON string starting at `index` (a quote), or undefined when the prefix ends first. */
  const readString = (): string | undefined => {
    const start = index;
    index += 1;
    while (index < text.length) {
      const char = text[index];
      if (char === "\\") index += 2;
      else if (char === '"') {
        index += 1;
        return text.slice(start, index);
      } else index += 1;
    }
    return undefined;
  };
  skipSpace();
  if (text[index] !== "{") return undefined;
  index += 1;
  let depth = 1;
  let id: string | undefined;
  let type: string | undefined;
  // At depth 1, the string after `{` or `,` is a key; the one after its `:` is its value.
  let expectKey = true;
  let key: string | undefined;
  while (index < text.length && depth > 0) {
    skipSpace();
    const char = text[index];
    if (char === undefined) break;
    if (char === '"') {
      const raw = readString();
      if (raw === undefined) break;
      if (depth !== 1) continue;
      let value: string;
      try {
        value = JSON.parse(raw) as string;
      } catch {
        return undefined;
      }
      if (expectKey) {
        key = value;
        expectKey = false;
      } else {
        if (key === "id" && id === undefined) id = value;
        if (key === "type" && type === undefined) type = value;
        key = undefined;
      }
      continue;
    }
    if (char === "{" || char === "[") depth += 1;
    else if (char === "}" || char === "]") depth -= 1;
    else if (char === "," && depth === 1) {
      expectKey = true;
      key = undefined;
    } else if (char === ":" && depth === 1) {
      // The value comes next; a non-string value of `id` disqualifies it.
      if (key === "id") {
        index += 1;
        skipSpace();
        if (text[index] !== '"') return undefined;
        continue;
      }
    }
    index += 1;
  }
  if (type === "session") return undefined;
  return id !== undefined && ENTRY_ID.test(id) ? id : undefined;
}

/**
 * The `id` of the line `[start, end)` when it is too long to scan whole: taken from its first
 * {@link LINE_PREFIX_BYTES} bytes, and only when the line looks complete (it ends with `}`; a
 * torn line is passed over like any unparsable line).
 */
async function idOfLongLine(
  handle: FileHandle,
  start: number,
  end: number,
): Promise<string | undefined> {
  const tail = await readAt(handle, Math.max(start, end - 64), Math.min(64, end - start));
  let last = tail.length - 1;
  while (last >= 0 && (tail[last] === 0x20 || tail[last] === 0x09 || tail[last] === 0x0d)) {
    last -= 1;
  }
  if (last < 0 || tail[last] !== 0x7d) return undefined;
  const prefix = await readAt(handle, start, Math.min(LINE_PREFIX_BYTES, end - start));
  return topLevelEntryIdFromPrefix(prefix);
}

/**
 * The id of the last entry (not the header) of the file, scanning backwards from its end. A line
 * longer than the scan cap is not read whole: where it starts is found by a bounded backward
 * search for the previous newline, and its `id` is taken from its first bytes
 * ({@link idOfLongLine}). When that fails, the search goes on before that line. Null only when no
 * entry is found at all.
 */
async function findLeafId(
  handle: FileHandle,
  size: number,
  maxScanBytes: number | undefined,
): Promise<string | null> {
  let end = size;
  while (end > 0) {
    const reader = new BackwardLineReader(
      handle,
      end,
      maxScanBytes === undefined ? {} : { maxScanBytes },
    );
    // Bytes of the lines handed out, each with its newline: the line the scan stopped in ends
    // where they begin.
    let consumed = 0;
    for (;;) {
      const line = await reader.previousLine();
      if (line === null) break;
      consumed += line.length + 1;
      if (isBlankLine(line)) continue;
      const record = parseJsonObjectLine(line);
      if (record === undefined || record.type === "session") continue;
      if (typeof record.id === "string" && record.id !== "") return record.id;
    }
    if (!reader.truncated) return null;
    // The scan stopped inside one line. Nothing between where it stopped and that line's end is
    // a newline, so the search for its start begins where the scan stopped.
    const lineEnd = end - consumed;
    const lineStart = await findLineStart(handle, end - reader.bytesRead);
    const id = await idOfLongLine(handle, lineStart, lineEnd);
    if (id !== undefined) return id;
    end = lineStart;
  }
  return null;
}

async function readLastByte(handle: FileHandle, size: number): Promise<number | undefined> {
  const byte = Buffer.alloc(1);
  const { bytesRead } = await handle.read(byte, 0, 1, size - 1);
  return bytesRead === 1 ? byte[0] : undefined;
}

async function writeFully(handle: FileHandle, data: Buffer): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const result = await handle.write(data, written, data.length - written);
    written += result.bytesWritten;
  }
}

/**
 * Appends one entry to a transcript as one complete line, under the transcript lock: a random
 * 8-hex `id`, `parentId` = the current leaf (found by reading the file's tail backwards), an ISO
 * `timestamp`. A new or empty file gets a v3 header first; a file without a header (compacted by
 * openclaw) gets none. A torn last line from a crash is left alone and the entry starts on a
 * fresh line, so both survive as separate lines. The line is written with O_APPEND and not
 * fsync'd: a crash may lose the newest lines, never corrupt earlier ones. A file-system failure
 * (a full disk, a parent that is a file) throws `STORE_IO` with `details: { path, errno }`.
 */
export async function appendTranscriptEntry(
  file: string,
  input: TranscriptEntryInput,
  options: AppendTranscriptOptions = {},
): Promise<AppendedTranscriptEntry> {
  if (typeof input.type !== "string" || input.type === "" || input.type === "session") {
    throw new SessionsError("INVALID_PARAMS", `invalid transcript entry type for ${file}`, {
      details: { path: file, field: "type" },
    });
  }
  const path = resolve(file);
  try {
    return await appendUnderLock(path, input, options);
  } catch (error) {
    throw asStoreIoError(path, error);
  }
}

/**
 * A file-system error (one with an errno `code`) as `STORE_IO` naming the transcript and the
 * errno; a `SessionsError` or a programming error is returned as it is.
 */
function asStoreIoError(path: string, error: unknown): unknown {
  if (SessionsError.isInstance(error)) return error;
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof errno !== "string") return error;
  return new SessionsError(
    "STORE_IO",
    `cannot append to transcript ${path}: ${(error as Error).message}`,
    { cause: error, details: { path, errno } },
  );
}

async function appendUnderLock(
  path: string,
  input: TranscriptEntryInput,
  options: AppendTranscriptOptions,
): Promise<AppendedTranscriptEntry> {
  const now = options.now ?? Date.now;
  const root = options.sessionsDir === undefined ? dirname(path) : resolve(options.sessionsDir);
  // The sessions dir itself is trusted (it comes from configuration); what lies below it is
  // checked before anything is created there.
  await mkdir(root, { recursive: true });
  await assertRealPathInside(path, root);
  await mkdir(dirname(path), { recursive: true });

  return withTranscriptLock(
    path,
    async () => {
      // Checked again under the lock, right before the open, and the opened file is checked too:
      // a symlink may have been planted while the lock was awaited.
      await assertRealPathInside(path, root);
      const { handle } = await openTranscriptForAppending(path, root);
      try {
        const { size } = await handle.stat();
        const createdFile = size === 0;
        const parentId =
          input.parentId !== undefined
            ? input.parentId
            : createdFile
              ? null
              : await findLeafId(handle, size, options.maxScanBytes);
        // A caller's `id` is replaced: ids are ours to keep unique.
        const { type, id: _id, parentId: _parentId, timestamp, ...payload } = input;
        const stamp = new Date(now()).toISOString();
        const entry: Record<string, unknown> = {
          type,
          id: createTranscriptEntryId(),
          parentId,
          timestamp: timestamp ?? stamp,
          ...payload,
        };
        let text = `${JSON.stringify(entry)}\n`;
        if (createdFile) {
          const header = {
            type: "session",
            version: TRANSCRIPT_VERSION,
            id: options.sessionId ?? sessionIdFromFileName(path),
            timestamp: stamp,
            cwd: options.cwd ?? process.cwd(),
          };
          text = `${JSON.stringify(header)}\n${text}`;
        } else if ((await readLastByte(handle, size)) !== 0x0a) {
          text = `\n${text}`;
        }
        await writeFully(handle, Buffer.from(text, "utf8"));
        return { file: path, entry, createdFile };
      } finally {
        await handle.close();
      }
    },
    options.lock,
  );
}

/** Appends a `message` entry; the message gets `timestamp` (epoch ms) when it has none. */
export async function appendTranscriptMessage(
  file: string,
  message: TranscriptMessageInput,
  options: AppendTranscriptOptions = {},
): Promise<AppendedTranscriptEntry> {
  const now = options.now ?? Date.now;
  const stamped = (
    message.timestamp === undefined ? { ...message, timestamp: now() } : message
  ) as AgentMessage;
  return appendTranscriptEntry(file, { type: "message", message: stamped }, options);
}
