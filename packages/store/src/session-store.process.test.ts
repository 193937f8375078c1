import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { lstat, open, readFile, rm, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { testdir } from "@clawkeep/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import {
  invalidateSessionStoreCache,
  updateSessionStore,
  withSessionStoreLock,
} from "./session-store-api.ts";

// Child processes run the built package (Node 20 cannot run TypeScript): `pnpm test` builds first.
const scripts = fileURLToPath(new URL("../test-scripts/", import.meta.url));
const STALE_MS = 2000;

const children = new Set<ChildProcessWithoutNullStreams>();

afterEach(() => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
  invalidateSessionStoreCache();
});

function start(script: string, args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [join(scripts, script), ...args], { stdio: "pipe" });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Lines the child prints, as an async iterator. */
function linesOf(child: ChildProcessWithoutNullStreams): AsyncIterator<string> {
  return createInterface({ input: child.stdout })[Symbol.asyncIterator]();
}

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const result = await lines.next();
  if (result.done === true) throw new Error("child ended without the expected output");
  return result.value;
}

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

async function storePath(): Promise<string> {
  const dir = await testdir();
  const path = join(dir, "sessions.json");
  await writeFile(path, "{}");
  return path;
}

async function readCount(path: string): Promise<number> {
  const store = JSON.parse(await readFile(path, "utf8")) as { counter?: { count: number } };
  return store.counter?.count ?? 0;
}

function stderrOf(child: ChildProcessWithoutNullStreams): () => string {
  let text = "";
  child.stderr.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}

describe("several processes", () => {
  it("4 writers × 250 increments through updateSessionStore end at exactly 1000", async () => {
    const path = await storePath();
    const writers = Array.from({ length: 4 }, () =>
      start("counter-writer.mjs", [path, "250", String(STALE_MS)]),
    );
    const errors = writers.map(stderrOf);
    const codes = await Promise.all(writers.map(exited));
    expect(errors.map((read) => read())).toEqual(["", "", "", ""]);
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(await readCount(path)).toBe(1000);
    expect(readdirSync(join(path, ".."))).toEqual(["sessions.json"]);
  });

  it("a reader parsing the file in a loop never sees invalid JSON while writers run", async () => {
    const path = await storePath();
    const reader = start("json-reader.mjs", [path]);
    const readerLines = linesOf(reader);
    expect(await nextLine(readerLines)).toBe("ready");
    const writers = Array.from({ length: 2 }, () =>
      start("counter-writer.mjs", [path, "150", String(STALE_MS)]),
    );
    expect(await Promise.all(writers.map(exited))).toEqual([0, 0]);
    reader.stdin.write("stop\n");
    const summary = JSON.parse(await nextLine(readerLines)) as { reads: number; failures: number };
    expect(summary.failures).toBe(0);
    expect(summary.reads).toBeGreaterThan(10);
    expect(await readCount(path)).toBe(300);
  });

  it("survives a writer killed with SIGKILL 20 times: parseable, last value kept, lock recovered", async () => {
    const path = await storePath();
    let lastReported = 0;
    for (let round = 0; round < 20; round += 1) {
      const writer = start("counter-writer.mjs", [path, "0", String(STALE_MS)]);
      const lines = linesOf(writer);
      const started = Date.now();
      const first = Number(await nextLine(lines));
      // The next writer gets the lock within staleMs even when the killed one held it.
      expect(Date.now() - started).toBeLessThan(STALE_MS + 1500);
      expect(first).toBeGreaterThan(lastReported);
      lastReported = first;
      // Let it run a little (a varying number of commits), then kill it mid-loop.
      for (let more = 0; more < round % 5; more += 1) lastReported = Number(await nextLine(lines));
      writer.kill("SIGKILL");
      await exited(writer);
      const onDisk = await readCount(path);
      // The last reported value is committed; the child may have committed one more before it
      // could report it.
      expect(onDisk).toBeGreaterThanOrEqual(lastReported);
      expect(onDisk).toBeLessThanOrEqual(lastReported + 1);
      lastReported = onDisk;
    }
    // A clean writer afterwards removes whatever temp files the killed ones left.
    const clean = start("counter-writer.mjs", [path, "1", String(STALE_MS)]);
    expect(await exited(clean)).toBe(0);
    expect(await readCount(path)).toBe(lastReported + 1);
    expect(readdirSync(join(path, ".."))).toEqual(["sessions.json"]);
  });
});

describe("openclaw's lock file", () => {
  it("is waited for while another process holds it", async () => {
    const path = await storePath();
    const holder = start("openclaw-lock-holder.mjs", [path, "600"]);
    expect(await nextLine(linesOf(holder))).toBe("locked");
    const started = Date.now();
    await updateSessionStore(
      path,
      (store) => {
        store.a = { sessionId: "s-a", updatedAt: 1 };
      },
      { staleMs: STALE_MS * 5, timeoutMs: 5000 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(await exited(holder)).toBe(0);
    expect(Object.keys(JSON.parse(await readFile(path, "utf8")))).toEqual(["a"]);
  });

  it("is broken only once it is older than staleMs", async () => {
    const path = await storePath();
    // Left behind by an openclaw that died: never refreshed, never removed.
    await writeFile(`${path}.lock`, JSON.stringify({ pid: 999_999_999, startedAt: Date.now() }), {
      flag: "wx",
    });
    const started = Date.now();
    await updateSessionStore(
      path,
      (store) => {
        store.a = { sessionId: "s-a", updatedAt: 1 };
      },
      { staleMs: STALE_MS, timeoutMs: 10_000 },
    );
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(STALE_MS - 100);
    expect(waited).toBeLessThan(STALE_MS + 2000);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});

describe("a clawkeep process killed with SIGKILL while holding the lock", () => {
  async function killedHolder(path: string): Promise<void> {
    const holder = start("clawkeep-lock-holder.mjs", [path, String(STALE_MS)]);
    expect(await nextLine(linesOf(holder))).toBe("locked");
    holder.kill("SIGKILL");
    await exited(holder);
    const record = JSON.parse(await readFile(`${path}.lock`, "utf8")) as Record<string, unknown>;
    expect(record).toMatchObject({ pid: holder.pid, host: hostname(), owner: "clawkeep" });
    expect(typeof record.startedAt).toBe("number");
  }

  it("leaves a lock file that openclaw's writer breaks once older than staleMs", async () => {
    const path = await storePath();
    await killedHolder(path);
    const lockPath = `${path}.lock`;
    // openclaw 2026.2's writer: stat, unlink a lock older than its stale time, create with wx.
    const openclawTryLock = async (): Promise<boolean> => {
      const stats = await lstat(lockPath);
      if (stats.mtimeMs >= Date.now() - STALE_MS) return false;
      await unlink(lockPath);
      await (await open(lockPath, "wx")).close();
      return true;
    };
    expect(await openclawTryLock()).toBe(false);
    // Aged instead of waited for.
    const past = new Date(Date.now() - STALE_MS - 1000);
    await utimes(lockPath, past, past);
    expect(await openclawTryLock()).toBe(true);
    await unlink(lockPath);
  });

  it("leaves a lock that the next clawkeep writer takes at once", async () => {
    const path = await storePath();
    await killedHolder(path);
    const started = Date.now();
    await updateSessionStore(
      path,
      (store) => {
        store.a = { sessionId: "s-a", updatedAt: 1 };
      },
      { staleMs: STALE_MS * 5, timeoutMs: 1000 },
    );
    expect(Date.now() - started).toBeLessThan(500);
    expect(readdirSync(join(path, ".."))).toEqual(["sessions.json"]);
  });
});

describe("a compromised lock", () => {
  it("aborts the write in progress with STORE_LOCK_COMPROMISED instead of crashing", async () => {
    const path = await storePath();
    const result = updateSessionStore(
      path,
      async (store) => {
        store.a = { sessionId: "s-a", updatedAt: 1 };
        // Someone removes our lock; proper-lockfile notices at its next refresh (≤ 1 s here).
        await rm(`${path}.lock`, { recursive: true });
        await sleep(1500);
      },
      { staleMs: STALE_MS },
    );
    await expect(result).rejects.toMatchObject({ code: "STORE_LOCK_COMPROMISED" });
    expect(await readFile(path, "utf8")).toBe("{}");
    expect(readdirSync(join(path, ".."))).toEqual(["sessions.json"]);
    // The store stays usable.
    await updateSessionStore(path, (store) => {
      store.b = { sessionId: "s-b", updatedAt: 2 };
    });
    expect(Object.keys(JSON.parse(await readFile(path, "utf8")))).toEqual(["b"]);
  });

  it("aborts the signal handed to a withSessionStoreLock callback", async () => {
    const path = await storePath();
    const reason = await withSessionStoreLock(
      path,
      async (lock) => {
        await rm(lock.lockPath, { recursive: true });
        await new Promise((resolve) => lock.signal.addEventListener("abort", resolve));
        expect(() => lock.assertHeld()).toThrow();
        return lock.signal.reason as unknown;
      },
      { staleMs: STALE_MS },
    );
    expect(reason).toMatchObject({ code: "STORE_LOCK_COMPROMISED" });
  });
});
