import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { parseJsonOutput, runClawkeep } from "../testing/run-clawkeep.ts";

const GATEWAY_MAIN = fileURLToPath(new URL("../../../gateway/dist/main.js", import.meta.url));

/** Starts the built gateway on a free loopback port; resolves with its URL once it listens. */
async function startGateway(stateDir: string): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    [GATEWAY_MAIN, "--port", "0", "--state-dir", stateDir],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  onTestFinished(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  });
  return await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      const match = /listening on (ws:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`gateway exited with ${code}: ${output}`)));
  });
}

describe("clawkeep against a running gateway (process)", () => {
  it("connects with the token file of a local gateway and reports the gateway's answer", async () => {
    const stateDir = await testdir();
    const url = await startGateway(stateDir);
    // No --token: the CLI reads the token file the gateway created in the state dir.
    const call = await runClawkeep([
      "gateway",
      "call",
      "no.such.method",
      "--url",
      url,
      "--state-dir",
      stateDir,
      "--json",
    ]);
    expect(call.code).toBe(1);
    const document = parseJsonOutput<{ ok: boolean; error: { code: string; message: string } }>(
      call,
    );
    expect(document.ok).toBe(false);
    expect(document.error.code).toBe("INVALID_REQUEST");
    expect(call.stderr).not.toContain("    at ");

    const refused = await runClawkeep([
      "gateway",
      "call",
      "no.such.method",
      "--url",
      url,
      "--token",
      "wrong",
      "--state-dir",
      stateDir,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /clawkeep: error: the gateway at .* refused the connection: .*--token/,
    );
  });

  it("runs the sessions commands through the gateway with --url, with the same results as on files", async () => {
    const stateDir = await testdir();
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    await mkdir(sessionsDir, { recursive: true });
    await writeFile(
      join(sessionsDir, "sessions.json"),
      JSON.stringify({
        "agent:main:main": { sessionId: "s-main", updatedAt: 2 },
        "agent:main:telegram:direct:42": { sessionId: "s-42", updatedAt: 1 },
      }),
    );
    const url = await startGateway(stateDir);
    const remote = await runClawkeep([
      "sessions",
      "list",
      "--url",
      url,
      "--state-dir",
      stateDir,
      "--json",
    ]);
    expect(remote.code).toBe(0);
    const local = await runClawkeep(["sessions", "list", "--state-dir", stateDir, "--json"]);
    const keys = (run: typeof remote) =>
      parseJsonOutput<{ sessions: { key: string }[] }>(run).sessions.map((row) => row.key);
    expect(parseJsonOutput(remote)).toMatchObject({ via: url });
    expect(keys(remote)).toEqual(keys(local));

    const patched = await runClawkeep([
      "sessions",
      "patch",
      "main",
      "--label",
      "remote",
      "--url",
      url,
      "--state-dir",
      stateDir,
    ]);
    expect(patched.code).toBe(0);
    const shown = await runClawkeep([
      "sessions",
      "show",
      "main",
      "--state-dir",
      stateDir,
      "--json",
    ]);
    expect(parseJsonOutput(shown)).toMatchObject({ entry: { label: "remote" } });
    const invalid = await runClawkeep([
      "sessions",
      "patch",
      "main",
      "--thinking-level",
      "sideways",
      "--url",
      url,
      "--state-dir",
      stateDir,
    ]);
    expect(invalid.code).toBe(2);
  });
});
