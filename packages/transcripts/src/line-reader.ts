import type { FileHandle } from "node:fs/promises";

const NEWLINE = 0x0a;

/** How far a backward scan may go, and how it reads. */
export interface TailScanOptions {
  /**
   * The most bytes a tail reader reads from the end of a file before it gives up and reports
   * `truncated: true`. Bounds the worst case (a transcript with no matching line at all).
   * @default 67108864 (64 MiB)
   */
  maxScanBytes?: number;
  /**
   * Size of the first read from the end; each further read doubles, up to 8 MiB. Small values
   * cost more system calls; they exist mainly so tests can force lines across read boundaries.
   * @default 65536 (64 KiB)
   */
  chunkBytes?: number;
}

export const DEFAULT_MAX_SCAN_BYTES = 64 * 1024 * 1024;
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Reads the lines of a file from the last to the first, as raw bytes without their newline.
 * Work happens on bytes and only whole lines are handed out, so a multi-byte UTF-8 character that
 * straddles two reads is never split. Reads start small and double, so asking for the last few
 * lines of a huge file costs a few small reads, while one huge line costs a few large ones.
 */
export class BackwardLineReader {
  /** True when the scan stopped at `maxScanBytes` before reaching the start of the file. */
  truncated = false;
  /** Bytes read from the file so far. */
  bytesRead = 0;

  readonly #handle: FileHandle;
  #position: number;
  #chunkBytes: number;
  #budget: number;
  /** Complete lines of the last read, in the order they are handed out (last line first). */
  #pending: Buffer[] = [];
  #pendingIndex = 0;
  /** The pieces, in file order, of the line that started before the last read. */
  #carry: Buffer[] = [];

  /** Reads backwards from byte `end` (exclusive) of the open file. */
  constructor(handle: FileHandle, end: number, options: TailScanOptions = {}) {
    this.#handle = handle;
    this.#position = end;
    this.#chunkBytes = Math.max(1, Math.floor(options.chunkBytes ?? DEFAULT_CHUNK_BYTES));
    this.#budget = Math.max(0, options.maxScanBytes ?? DEFAULT_MAX_SCAN_BYTES);
  }

  /** The previous line, or null at the start of the file (or at the scan cap). */
  async previousLine(): Promise<Buffer | null> {
    while (this.#pendingIndex >= this.#pending.length) {
      if (this.#position === 0) {
        if (this.#carry.length === 0) return null;
        const first = joinPieces(this.#carry);
        this.#carry = [];
        return first;
      }
      if (this.#budget === 0) {
        this.truncated = true;
        return null;
      }
      await this.#readChunk();
    }
    const line = this.#pending[this.#pendingIndex] as Buffer;
    this.#pendingIndex += 1;
    return line;
  }

  async #readChunk(): Promise<void> {
    const length = Math.min(this.#chunkBytes, this.#position, this.#budget);
    this.#chunkBytes = Math.min(this.#chunkBytes * 2, MAX_CHUNK_BYTES);
    const start = this.#position - length;
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.#handle.read(
        buffer,
        filled,
        length - filled,
        start + filled,
      );
      // The file shrank under us (truncated by someone else): treat what is missing as absent.
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const chunk = filled === length ? buffer : buffer.subarray(0, filled);
    this.#position = start;
    this.#budget -= length;
    this.bytesRead += length;

    this.#pending = [];
    this.#pendingIndex = 0;
    let end = chunk.length;
    let first = true;
    while (end > 0) {
      const newline = chunk.lastIndexOf(NEWLINE, end - 1);
      if (newline === -1) break;
      const piece = chunk.subarray(newline + 1, end);
      if (first) {
        this.#pending.push(this.#carry.length === 0 ? piece : joinPieces([piece, ...this.#carry]));
        this.#carry = [];
        first = false;
      } else {
        this.#pending.push(piece);
      }
      end = newline;
    }
    this.#carry.unshift(chunk.subarray(0, end));
  }
}

function joinPieces(pieces: Buffer[]): Buffer {
  return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
}

/** One line read forwards, with the byte offset where it starts. */
export interface ForwardLine {
  bytes: Buffer;
  offset: number;
}

/**
 * Yields the lines between byte `start` and byte `end` of an open file, first to last, as raw
 * bytes without their newline. A final line without a newline is yielded too. Memory is one read
 * buffer plus the longest line.
 */
export async function* readLinesForward(
  handle: FileHandle,
  start: number,
  end: number,
  chunkBytes: number = DEFAULT_CHUNK_BYTES,
): AsyncGenerator<ForwardLine> {
  let position = start;
  let carry: Buffer[] = [];
  let carryOffset = start;
  const size = Math.max(1, chunkBytes);
  while (position < end) {
    const length = Math.min(size, end - position);
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    let lineStart = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, lineStart);
      if (newline === -1) break;
      const piece = chunk.subarray(lineStart, newline);
      if (carry.length === 0) {
        yield { bytes: piece, offset: position + lineStart };
      } else {
        carry.push(piece);
        yield { bytes: Buffer.concat(carry), offset: carryOffset };
        carry = [];
      }
      lineStart = newline + 1;
    }
    if (lineStart < chunk.length) {
      if (carry.length === 0) carryOffset = position + lineStart;
      carry.push(chunk.subarray(lineStart));
    }
    position += bytesRead;
  }
  if (carry.length > 0) yield { bytes: joinPieces(carry), offset: carryOffset };
}

/** True when the line holds nothing but ASCII whitespace. */
export function isBlankLine(bytes: Buffer): boolean {
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) return false;
  }
  return true;
}

/** Parses a line as a JSON object; anything else (torn, blank, an array) is undefined. */
export function parseJsonObjectLine(bytes: Buffer): Record<string, unknown> | undefined {
  if (isBlankLine(bytes)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
