import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { invalidateSessionStoreCache, updateSessionStore } from "./session-store-api.ts";

afterEach(() => {
  invalidateSessionStoreCache();
});

// Real time throughout: proper-lockfile compares Date.now() with real file times.
describe("the default lock timeout", () => {
  it("gives up on a busy lock after 10 s with STORE_LOCKED", async () => {
    const path = join(await testdir(), "sessions.json");
    await writeFile(path, "{}");
    // openclaw's lock file, fresh: it stays younger than the 30 s stale time throughout.
    await writeFile(`${path}.lock`, JSON.stringify({ pid: process.ppid, startedAt: Date.now() }));
    const started = Date.now();
    const error = await updateSessionStore(path, () => undefined).catch(
      (caught: unknown) => caught,
    );
    const waitedMs = Date.now() - started;
    expect(error).toMatchObject({ code: "STORE_LOCKED", details: { path: `${path}.lock` } });
    expect(waitedMs).toBeGreaterThanOrEqual(9_990);
    expect(waitedMs).toBeLessThan(12_000);
  });
});
