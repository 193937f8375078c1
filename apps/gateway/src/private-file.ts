import { mkdir } from "node:fs/promises";

/** Creates `dir` (and its parents) readable by the owner only. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}
