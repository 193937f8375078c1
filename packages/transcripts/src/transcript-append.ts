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
   * How far back the current leaf is looked for. Only a file whose last this-many bytes hold no
   * entry at all (one giant line) reaches it; the new entry then starts a new root.
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

/** The id of the last entry (not the header) of the file, scanning backwards from its end. */
async function findLeafId(
  handle: FileHandle,
  size: number,
  maxScanBytes: number | undefined,
): Promise<string | null> {
  const reader = new BackwardLineReader(
    handle,
    size,
    maxScanBytes === undefined ? {} : { maxScanBytes },
  );
  for (;;) {
    const line = await reader.previousLine();
    if (line === null) return null;
    if (isBlankLine(line)) continue;
    const record = parseJsonObjectLine(line);
    if (record === undefined || record.type === "session") continue;
    if (typeof record.id === "string" && record.id !== "") return record.id;
  }
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
 * fsync'd: a crash may lose the newest lines, never corrupt earlier ones.
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
