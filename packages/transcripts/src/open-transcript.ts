import { type FileHandle, open } from "node:fs/promises";
import { SessionsError } from "@clawkeep/schema";

/** Opens a transcript for reading; null when it does not exist (it may vanish after a lookup). */
export async function openTranscriptForReading(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw new SessionsError("STORE_IO", `cannot read transcript: ${file}`, {
      cause: error,
      details: { path: file },
    });
  }
}
