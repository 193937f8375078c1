import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { appendTranscriptMessage } from "./transcript-append.ts";
import { withTranscriptLock } from "./transcript-lock.ts";

const holder = join(import.meta.dirname, "__fixtures__", "hold-lock.mjs");

/** Starts a process that holds the transcript lock until its stdin is closed. */
async function holdLock(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [holder, file], { stdio: ["pipe", "pipe", "inherit"] });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  expect(chunk.toString()).toContain("locked");
  return child;
}

/** A pid that belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid as number;
}

describe("transcript lock across processes", () => {
  it("waits for a lock another process holds, then fails with TRANSCRIPT_LOCKED", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    const child = await holdLock(file);
    try {
      const error = await appendTranscriptMessage(
        file,
        { role: "user", content: "x" },
        { lock: { timeoutMs: 300 } },
      ).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "TRANSCRIPT_LOCKED" });
      expect((error as Error).message).toBe(
        `session file locked (timeout 300ms): pid=${child.pid} ${file}.lock`,
      );
    } finally {
      const exited = once(child, "exit");
      child.stdin?.end();
      await exited;
    }
    await expect(stat(`${file}.lock`)).rejects.toMatchObject({ code: "ENOENT" });
    await appendTranscriptMessage(
      file,
      { role: "user", content: "after release" },
      { lock: { timeoutMs: 300 } },
    );
  });

  it("acquires as soon as the holder releases", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    const child = await holdLock(file);
    const exited = once(child, "exit");
    setTimeout(() => child.stdin?.end(), 200);
    const started = Date.now();
    await appendTranscriptMessage(
      file,
      { role: "user", content: "x" },
      { lock: { timeoutMs: 5000 } },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await exited;
  });

  it("takes over the lock of a process that was killed", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    const child = await holdLock(file);
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
    expect(JSON.parse(await readFile(`${file}.lock`, "utf8")).pid).toBe(child.pid);
    await appendTranscriptMessage(
      file,
      { role: "user", content: "x" },
      { lock: { timeoutMs: 1000 } },
    );
    await expect(stat(`${file}.lock`)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("honours openclaw's lock file: held while its pid lives, broken when it is dead", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    const lockPath = `${file}.lock`;
    const alive = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], {
      stdio: "ignore",
    });
    try {
      await writeFile(
        lockPath,
        JSON.stringify({ pid: alive.pid, createdAt: new Date().toISOString() }),
      );
      await expect(
        withTranscriptLock(file, async () => "got", { timeoutMs: 200 }),
      ).rejects.toMatchObject({
        code: "TRANSCRIPT_LOCKED",
      });
    } finally {
      const exited = once(alive, "exit");
      alive.kill("SIGKILL");
      await exited;
    }
    expect(await withTranscriptLock(file, async () => "got", { timeoutMs: 1000 })).toBe("got");

    await writeFile(
      lockPath,
      JSON.stringify({ pid: await deadPid(), createdAt: new Date().toISOString() }),
    );
    expect(await withTranscriptLock(file, async () => "dead owner", { timeoutMs: 200 })).toBe(
      "dead owner",
    );
  });

  it("breaks a lock older than staleMs even when its owner lives", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    const old = new Date(Date.now() - 3000).toISOString();
    await writeFile(`${file}.lock`, JSON.stringify({ pid: process.pid, createdAt: old }));
    await expect(
      withTranscriptLock(file, async () => "x", { timeoutMs: 100, staleMs: 60_000 }),
    ).rejects.toMatchObject({ code: "TRANSCRIPT_LOCKED" });
    expect(
      await withTranscriptLock(file, async () => "stale", { timeoutMs: 100, staleMs: 2000 }),
    ).toBe("stale");
  });

  it("holds a lock of another host until it is stale", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    const owner = {
      pid: await deadPid(),
      createdAt: new Date().toISOString(),
      host: "elsewhere.invalid",
    };
    await writeFile(`${file}.lock`, JSON.stringify(owner));
    await expect(
      withTranscriptLock(file, async () => "x", { timeoutMs: 100 }),
    ).rejects.toMatchObject({
      code: "TRANSCRIPT_LOCKED",
    });
  });

  it("releases the lock when the work throws, and leaves a lock taken over by others", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    await expect(
      withTranscriptLock(file, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await expect(stat(`${file}.lock`)).rejects.toMatchObject({ code: "ENOENT" });

    const foreign = JSON.stringify({
      pid: process.pid,
      createdAt: new Date().toISOString(),
      token: "other",
    });
    await withTranscriptLock(file, async () => {
      await writeFile(`${file}.lock`, foreign);
    });
    expect(await readFile(`${file}.lock`, "utf8")).toBe(foreign);
  });
});
