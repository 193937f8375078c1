import { open } from "node:fs/promises";

/** What a full read of a transcript found. */
export interface TranscriptScan {
  size: number;
  /** Non-blank lines, the torn one included. */
  lines: number;
  /** Complete lines that are not JSON objects. */
  malformedLines: number;
  /** 1-based numbers of the first malformed lines (at most 10). */
  malformedLineNumbers: number[];
  /** The file does not end with a newline: the last line was cut off (a crash mid-append). */
  tornLastLine: boolean;
  /** The first line is a `session` header (files compacted by openclaw 2026.2.12 have none). */
  hasHeader: boolean;
}

const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

function isJsonObjectLine(bytes: Buffer): boolean | "blank" {
  const text = bytes.toString("utf8");
  if (text.trim() === "") return "blank";
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/**
 * Reads a transcript once, front to back, with memory bounded by the longest line, and counts
 * what a doctor reports: malformed lines, a torn last line, a missing header.
 */
export async function scanTranscript(path: string): Promise<TranscriptScan> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const scan: TranscriptScan = {
      size,
      lines: 0,
      malformedLines: 0,
      malformedLineNumbers: [],
      tornLastLine: false,
      hasHeader: false,
    };
    let pending: Buffer[] = [];
    let lineNumber = 0;
    const finishLine = (bytes: Buffer) => {
      lineNumber += 1;
      const result = isJsonObjectLine(bytes);
      if (result === "blank") return;
      scan.lines += 1;
      if (lineNumber === 1 && result === true) {
        scan.hasHeader = /^\s*\{\s*"type"\s*:\s*"session"/.test(bytes.toString("utf8"));
      }
      if (result === false) {
        scan.malformedLines += 1;
        if (scan.malformedLineNumbers.length < 10) scan.malformedLineNumbers.push(lineNumber);
      }
    };
    const buffer = Buffer.alloc(CHUNK_BYTES);
    let position = 0;
    while (position < size) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let start = 0;
      for (;;) {
        const index = buffer.indexOf(NEWLINE, start);
        if (index === -1 || index >= bytesRead) break;
        pending.push(Buffer.from(buffer.subarray(start, index)));
        finishLine(Buffer.concat(pending));
        pending = [];
        start = index + 1;
      }
      if (start < bytesRead) pending.push(Buffer.from(buffer.subarray(start, bytesRead)));
    }
    const rest = Buffer.concat(pending);
    if (rest.length > 0) {
      // An unterminated last line is torn whether or not it happens to parse: the next append
      // must not be glued to it.
      scan.tornLastLine = true;
      lineNumber += 1;
      if (rest.toString("utf8").trim() !== "") scan.lines += 1;
    }
    return scan;
  } finally {
    await handle.close();
  }
}
