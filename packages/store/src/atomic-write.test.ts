import { readdirSync } from "node:fs";
import { readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import {
  fsyncDirectory,
  removeOrphanedTempFiles,
  stageAtomicWrite,
  writeFileAtomically,
} from "./atomic-write.ts";

describe("writeFileAtomically", () => {
  it("creates and replaces a file with mode 0600, leaving no temp file", async () => {
    const dir = await testdir();
    const target = join(dir, "sessions.json");
    const first = await writeFileAtomically(target, "{}");
    expect(await readFile(target, "utf8")).toBe("{}");
    expect(first).toMatchObject({ path: target, size: 2 });
    await writeFileAtomically(target, Buffer.from('{"a":1}'));
    expect(await readFile(target, "utf8")).toBe('{"a":1}');
    const stats = await stat(target);
    expect(stats.mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["sessions.json"]);
  });

  it("replaces the target of a symlink, not the link", async () => {
    const dir = await testdir({ "real.json": "old" });
    await symlink(join(dir, "real.json"), join(dir, "link.json"));
    await writeFileAtomically(join(dir, "link.json"), "new");
    expect(await readFile(join(dir, "real.json"), "utf8")).toBe("new");
    expect((await stat(join(dir, "link.json"))).isFile()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["link.json", "real.json"]);
  });

  it("leaves the target as it was when aborted before the rename", async () => {
    const dir = await testdir({ "sessions.json": "old" });
    const controller = new AbortController();
    const reason = new Error("lock lost");
    controller.abort(reason);
    await expect(
      writeFileAtomically(join(dir, "sessions.json"), "new", { signal: controller.signal }),
    ).rejects.toBe(reason);
    expect(await readFile(join(dir, "sessions.json"), "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["sessions.json"]);
  });

  it("fails with STORE_IO naming the path when the directory is missing", async () => {
    const dir = await testdir();
    const target = join(dir, "missing", "sessions.json");
    const error = await writeFileAtomically(target, "{}").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "STORE_IO", details: { path: target, errno: "ENOENT" } });
    expect((error as Error).message).toContain(target);
  });
});

describe("stageAtomicWrite", () => {
  it("writes pieces to a temp file that only the commit makes visible", async () => {
    const dir = await testdir({ "sessions.json": "old" });
    const target = join(dir, "sessions.json");
    const overlapped: string[] = [];
    const staged = await stageAtomicWrite(
      target,
      [Buffer.from("{"), Buffer.alloc(0), Buffer.from("}")],
      {
        duringWrite: () => overlapped.push("ran"),
      },
    );
    expect(overlapped).toEqual(["ran"]);
    expect(await readFile(target, "utf8")).toBe("old");
    expect(readdirSync(dir)).toHaveLength(2);
    expect(await staged.commit()).toMatchObject({ path: target, size: 2 });
    expect(await readFile(target, "utf8")).toBe("{}");
    expect(readdirSync(dir)).toEqual(["sessions.json"]);
    await staged.discard();
    expect(await readFile(target, "utf8")).toBe("{}");
  });

  it("removes the temp file on discard and when the work during the write fails", async () => {
    const dir = await testdir({ "sessions.json": "old" });
    const target = join(dir, "sessions.json");
    const staged = await stageAtomicWrite(target, "new");
    await staged.discard();
    await expect(staged.commit()).rejects.toThrow(/already committed or discarded/);
    const failure = new Error("copy failed");
    const error = await stageAtomicWrite(target, "new", {
      duringWrite: () => {
        throw failure;
      },
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "STORE_IO", cause: failure });
    expect(await readFile(target, "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["sessions.json"]);
  });
});

describe("fsyncDirectory", () => {
  it("flushes a directory and names a missing one", async () => {
    const dir = await testdir();
    await fsyncDirectory(dir);
    await expect(fsyncDirectory(join(dir, "nope"))).rejects.toMatchObject({ code: "STORE_IO" });
  });
});

describe("removeOrphanedTempFiles", () => {
  it("removes temp files of dead processes only", async () => {
    const dir = await testdir({
      "sessions.json": "{}",
      "sessions.json.999999999.a1b2c3.tmp": "x",
      [`sessions.json.${process.pid}.d4e5f6.tmp`]: "x",
      "sessions.json.bak.1770000000000": "x",
      "other.json.999999999.a1b2c3.tmp": "x",
    });
    const removed = await removeOrphanedTempFiles(join(dir, "sessions.json"));
    expect(removed).toEqual([join(dir, "sessions.json.999999999.a1b2c3.tmp")]);
    expect(readdirSync(dir).sort()).toEqual([
      "other.json.999999999.a1b2c3.tmp",
      "sessions.json",
      `sessions.json.${process.pid}.d4e5f6.tmp`,
      "sessions.json.bak.1770000000000",
    ]);
    expect(await removeOrphanedTempFiles(join(dir, "gone", "sessions.json"))).toEqual([]);
    await writeFile(join(dir, "unrelated"), "");
  });
});
