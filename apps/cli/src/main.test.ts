import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "./exit-codes.ts";
import { runCli } from "./main.ts";

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    env: { HOME: await testdir() },
    writeOutput: (text) => {
      stdout += text;
    },
    writeError: (text) => {
      stderr += text;
    },
    tty: { stdin: false, stdout: false, stderr: false },
  });
  return { code, stdout, stderr };
}

describe("runCli", () => {
  it("prints help for every group and exits 0", async () => {
    for (const argv of [
      ["--help"],
      ["sessions", "--help"],
      ["gateway", "call", "--help"],
      ["devices", "--help"],
    ]) {
      const result = await run(argv);
      expect(result.code).toBe(EXIT_CODES.OK);
      expect(result.stdout).toContain("Usage:");
    }
  });

  it("exits 2 for unknown commands and options, with one JSON document under --json", async () => {
    expect((await run(["frobnicate"])).code).toBe(EXIT_CODES.USAGE);
    const result = await run(["doctor", "--bogus", "--json"]);
    expect(result.code).toBe(EXIT_CODES.USAGE);
    const document = JSON.parse(result.stdout);
    expect(document).toMatchObject({ ok: false, error: { code: "INVALID_PARAMS", exitCode: 2 } });
    expect(typeof document.stateDir).toBe("string");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("reads the state dir flag before the command word", async () => {
    const stateDir = await testdir();
    const result = await run(["--state-dir", stateDir, "doctor", "--json"]);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(JSON.parse(result.stdout)).toMatchObject({ stateDir, ok: true, stores: [] });
  });
});
