import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { onTestFinished } from "vitest";

/**
 * Creates a fresh temporary directory for the running test, optionally filled with `files`
 * (relative path → content; objects are written as 2-space JSON), and removes it when the
 * test finishes.
 */
export async function testdir(files: Record<string, string | object> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "clawkeep-test-"));
  onTestFinished(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  for (const [relativePath, content] of Object.entries(files)) {
    const target = join(dir, relativePath);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(
      target,
      typeof content === "string" ? content : JSON.stringify(content, null, 2),
    );
  }
  return dir;
}

/** Copies a fixture directory into a new {@link testdir} and returns the copy's path. */
export async function copyFixtureDir(fixtureDir: string): Promise<string> {
  const dir = await testdir();
  await cp(fixtureDir, dir, { recursive: true });
  return dir;
}
