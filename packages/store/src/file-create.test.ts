import { readdirSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { createFileExclusively, pathExists } from "./file-create.ts";

describe("createFileExclusively", () => {
  it("creates the file whole with the mode given, leaving no temp file", async () => {
    const dir = await testdir();
    const target = join(dir, "out.json");
    expect(await createFileExclusively(target, "{}\n", 0o600)).toBe("created");
    expect(await readFile(target, "utf8")).toBe("{}\n");
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["out.json"]);
  });

  it("never replaces an existing file", async () => {
    const dir = await testdir({ "out.json": "old" });
    const target = join(dir, "out.json");
    expect(await createFileExclusively(target, "new")).toBe("exists");
    expect(await readFile(target, "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["out.json"]);
  });

  it("lets exactly one of concurrent creators win", async () => {
    const dir = await testdir();
    const target = join(dir, "out.json");
    const outcomes = await Promise.all(
      ["a", "b", "c"].map((data) => createFileExclusively(target, data)),
    );
    expect(outcomes.filter((outcome) => outcome === "created")).toHaveLength(1);
    expect(["a", "b", "c"]).toContain(await readFile(target, "utf8"));
    expect(readdirSync(dir)).toEqual(["out.json"]);
  });

  it("fails with STORE_IO when the directory is missing", async () => {
    const dir = await testdir();
    const target = join(dir, "missing", "out.json");
    await expect(createFileExclusively(target, "x")).rejects.toMatchObject({ code: "STORE_IO" });
  });
});

describe("pathExists", () => {
  it("is true for a file and false for nothing", async () => {
    const dir = await testdir({ "a.txt": "a" });
    expect(await pathExists(join(dir, "a.txt"))).toBe(true);
    expect(await pathExists(join(dir, "b.txt"))).toBe(false);
  });
});
