import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";

const worker = join(import.meta.dirname, "__fixtures__", "append-worker.mjs");

function run(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, ...args], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
}

describe("appendTranscriptMessage across processes", () => {
  it("4 processes appending 500 lines each leave 2000 intact, chained lines", async () => {
    const dir = await testdir();
    const file = join(dir, "sess-1.jsonl");
    const codes = await Promise.all([0, 1, 2, 3].map((index) => run([file, "500", String(index)])));
    expect(codes).toEqual([0, 0, 0, 0]);

    const text = await readFile(file, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    const lines = text
      .slice(0, -1)
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ type: "session", version: 3, id: "sess-1" });
    const entries = lines.slice(1);
    expect(entries).toHaveLength(2000);
    expect(new Set(entries.map((entry) => entry.id)).size).toBe(2000);
    expect(entries[0].parentId).toBeNull();
    for (let index = 1; index < entries.length; index += 1) {
      expect(entries[index].parentId).toBe(entries[index - 1].id);
    }
    for (const workerIndex of [0, 1, 2, 3]) {
      const own = entries
        .map((entry) => entry.message.content as string)
        .filter((content) => content.startsWith(`worker ${workerIndex} `));
      expect(own).toHaveLength(500);
      // Each process's lines are in its own order.
      expect(own.map((content) => Number(content.split(" ")[3]))).toEqual([...Array(500).keys()]);
    }
  });
});
