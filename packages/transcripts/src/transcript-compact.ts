import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { SessionsError } from "@clawkeep/schema";
import { createTempFilePath, fsyncDirectory, removeOrphanedTempFiles } from "@clawkeep/store";
import { resolveTranscriptArchivePath } from "./archive-names.ts";
import { exists, linkNoReplace } from "./durable-rename.ts";
import { parseJsonObjectLine, readLinesForward } from "./line-reader.ts";
import { openTranscriptForReading } from "./open-transcript.ts";
import { type TranscriptLockOptions, withTranscriptLock } from "./transcript-lock.ts";
import { assertRealPathInside } from "./transcript-paths.ts";

/** Options of {@link compactTranscript}. */
export interface CompactTranscriptOptions {
  /** How many entries (lines after the header) are kept, newest in file order. @default 400 */
  maxLines?: number;
  /**
   * The directory the transcript must really be inside, symlinks resolved.
   * @default the transcript's own directory
   */
  sessionsDir?: string;
  /** How the transcript lock is taken; compaction waits for a running append or agent run. */
  lock?: TranscriptLockOptions;
  /** Clock for the backup name. @default Date.now */
  now?: () => number;
  /**
   * Read buffer size; memory use is about this plus the longest kept first entry, whatever the
   * file size.
   * @default 1048576 (1 MiB)
   */
  bufferBytes?: number;
}

/** What {@link compactTranscript} did. */
export interface CompactTranscriptResult {
  compacted: boolean;
  /** Entries in the transcript afterwards (the header is not counted). */
  kept: number;
  /** Entries removed. */
  removed: number;
  /** The backup of the original (`<file>.bak.<time>`) when compacted. */
  archived: string | null;
  /** Set when there was nothing to compact because the transcript does not exist. */
  reason?: "no transcript";
}

const DEFAULT_MAX_LINES = 400;
const DEFAULT_BUFFER_BYTES = 1024 * 1024;
/** A header is a short line; a longer first line is an entry. */
const MAX_HEADER_BYTES = 64 * 1024;

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d;
}

/** Where the lines of a transcript are, from one streaming pass. */
interface LineCensus {
  size: number;
  /** Non-blank lines, the header included. */
  contentLines: number;
  firstLine: { start: number; end: number } | null;
  /** Start offsets of the last `capacity` non-blank lines, circular by line number. */
  recentStarts: number[];
  capacity: number;
  /** Whether the file ends with a newline (false for an empty file). */
  endsWithNewline: boolean;
}

/** Pass one: count non-blank lines and remember where the newest ones start. Holds one buffer. */
async function takeCensus(
  handle: FileHandle,
  capacity: number,
  bufferBytes: number,
): Promise<LineCensus> {
  const { size } = await handle.stat();
  const census: LineCensus = {
    size,
    contentLines: 0,
    firstLine: null,
    recentStarts: [],
    capacity,
    endsWithNewline: false,
  };
  const finishLine = (start: number, end: number) => {
    if (census.firstLine === null) census.firstLine = { start, end };
    census.recentStarts[census.contentLines % capacity] = start;
    census.contentLines += 1;
  };
  const buffer = Buffer.allocUnsafe(bufferBytes);
  let position = 0;
  let lineStart = 0;
  let hasContent = false;
  let lastByte: number | undefined;
  while (position < size) {
    const { bytesRead } = await handle.read(
      buffer,
      0,
      Math.min(bufferBytes, size - position),
      position,
    );
    if (bytesRead === 0) break;
    let index = 0;
    while (index < bytesRead) {
      let newline = buffer.indexOf(0x0a, index);
      if (newline >= bytesRead) newline = -1;
      const segmentEnd = newline === -1 ? bytesRead : newline;
      if (!hasContent) {
        for (let scan = index; scan < segmentEnd; scan += 1) {
          if (!isWhitespace(buffer[scan])) {
            hasContent = true;
            break;
          }
        }
      }
      if (newline === -1) break;
      if (hasContent) finishLine(lineStart, position + newline);
      lineStart = position + newline + 1;
      hasContent = false;
      index = newline + 1;
    }
    lastByte = buffer[bytesRead - 1];
    position += bytesRead;
  }
  if (hasContent && lineStart < position) finishLine(lineStart, position);
  census.size = position;
  census.endsWithNewline = lastByte === 0x0a;
  return census;
}

async function readRange(handle: FileHandle, start: number, end: number): Promise<Buffer> {
  const buffer = Buffer.alloc(end - start);
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

async function isHeaderLine(handle: FileHandle, line: { start: number; end: number }) {
  if (line.end - line.start > MAX_HEADER_BYTES) return false;
  return parseJsonObjectLine(await readRange(handle, line.start, line.end))?.type === "session";
}

async function writeFully(handle: FileHandle, data: Buffer): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const result = await handle.write(data, written, data.length - written);
    written += result.bytesWritten;
  }
}

/**
 * Pass two: the header as it was, then the kept entries from `keptStart` on. The first kept entry
 * that parses gets `parentId: null` (the start of the chain is gone); every other line is copied
 * byte for byte, in large blocks.
 */
async function writeCompacted(
  source: FileHandle,
  target: FileHandle,
  census: LineCensus,
  header: { start: number; end: number } | null,
  keptStart: number,
  bufferBytes: number,
): Promise<void> {
  if (header !== null) {
    await writeFully(target, await readRange(source, header.start, header.end + 1));
  }
  let copyFrom = census.size;
  for await (const line of readLinesForward(source, keptStart, census.size, bufferBytes)) {
    const record = parseJsonObjectLine(line.bytes);
    const lineEnd = line.offset + line.bytes.length;
    if (record === undefined) {
      // A torn or malformed line before the first real entry stays as it was.
      await writeFully(target, Buffer.concat([line.bytes, Buffer.from("\n")]));
      continue;
    }
    const rechained = { ...record, parentId: null };
    await writeFully(target, Buffer.from(`${JSON.stringify(rechained)}\n`, "utf8"));
    copyFrom = Math.min(lineEnd + 1, census.size);
    break;
  }
  const buffer = Buffer.allocUnsafe(bufferBytes);
  for (let position = copyFrom; position < census.size; ) {
    const length = Math.min(bufferBytes, census.size - position);
    const { bytesRead } = await source.read(buffer, 0, length, position);
    if (bytesRead === 0) break;
    await writeFully(target, buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  // A torn last line is kept, but terminated, so the next append cannot be glued to it.
  if (!census.endsWithNewline && copyFrom < census.size) {
    await writeFully(target, Buffer.from("\n"));
  }
}

/**
 * Shortens a transcript to its header (when it has one) plus its last `maxLines` entries in file
 * order. The first kept entry gets `parentId: null`; every other kept line stays byte for byte.
 * The new file is written beside the old one, flushed, and renamed over it (then the directory is
 * flushed), under the transcript lock; the original is kept as `<file>.bak.<time>`. A transcript
 * with `maxLines` entries or fewer is left untouched (`compacted: false`). Two streaming passes
 * (count, then copy the tail) keep memory flat whatever the file size.
 */
export async function compactTranscript(
  file: string,
  options: CompactTranscriptOptions = {},
): Promise<CompactTranscriptResult> {
  const maxLines = Math.max(1, Math.floor(options.maxLines ?? DEFAULT_MAX_LINES));
  const bufferBytes = Math.max(4096, Math.floor(options.bufferBytes ?? DEFAULT_BUFFER_BYTES));
  const now = options.now ?? Date.now;
  const path = resolve(file);
  const root = options.sessionsDir === undefined ? dirname(path) : resolve(options.sessionsDir);
  const missing: CompactTranscriptResult = {
    compacted: false,
    kept: 0,
    removed: 0,
    archived: null,
    reason: "no transcript",
  };

  if (!(await exists(path))) return missing;
  await assertRealPathInside(path, root);

  return withTranscriptLock(
    path,
    async () => {
      // Checked again under the lock, on the file actually opened: a symlink may have been
      // planted while the lock was awaited. Everything below works on its real path.
      const opened = await openTranscriptForReading(path, root);
      if (opened === null) return missing;
      const { handle, realPath: target } = opened;
      try {
        await removeOrphanedTempFiles(target);
        const census = await takeCensus(handle, maxLines + 1, bufferBytes);
        const header =
          census.firstLine !== null && (await isHeaderLine(handle, census.firstLine))
            ? census.firstLine
            : null;
        const entries = census.contentLines - (header === null ? 0 : 1);
        if (entries <= maxLines) {
          return { compacted: false, kept: entries, removed: 0, archived: null };
        }
        const firstKept = census.contentLines - maxLines;
        const keptStart = census.recentStarts[firstKept % census.capacity] as number;
        const archived = await replaceWithCompacted(target, handle, now, async (output) => {
          await writeCompacted(handle, output, census, header, keptStart, bufferBytes);
        });
        return { compacted: true, kept: maxLines, removed: entries - maxLines, archived };
      } catch (error) {
        if (SessionsError.isInstance(error)) throw error;
        throw new SessionsError("STORE_IO", `cannot compact transcript: ${path}`, {
          cause: error,
          details: { path, errno: (error as NodeJS.ErrnoException).code },
        });
      } finally {
        await handle.close();
      }
    },
    options.lock,
  );
}

/**
 * Writes the new content to a temp file beside `target`, flushes it, keeps the original as
 * `<target>.bak.<time>` (a hard link, so nothing is copied and the live name never disappears),
 * renames the temp file over `target` and flushes the directory. Returns the backup path.
 */
async function replaceWithCompacted(
  target: string,
  original: FileHandle,
  now: () => number,
  write: (output: FileHandle) => Promise<void>,
): Promise<string> {
  const { mode } = await original.stat();
  const tempPath = createTempFilePath(target);
  let renamed = false;
  try {
    const output = await open(tempPath, "wx", mode & 0o777);
    try {
      await write(output);
      await output.sync();
    } finally {
      await output.close();
    }
    const start = now();
    for (let attempt = 0; ; attempt += 1) {
      const backup = resolveTranscriptArchivePath(target, "bak", start + attempt);
      try {
        if (!(await linkNoReplace(target, backup))) await rename(target, backup);
        await rename(tempPath, target);
        renamed = true;
        await fsyncDirectory(dirname(target));
        return backup;
      } catch (error) {
        if (!SessionsError.hasCode(error, "ALREADY_EXISTS") || attempt >= 1000) throw error;
      }
    }
  } finally {
    if (!renamed) await removeQuietly(tempPath);
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
