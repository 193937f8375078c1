import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectGateway } from "@clawkeep/gateway-client";
import { testdir } from "@clawkeep/test-utils";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";

// These tests run the built entry (`pnpm build` first), as a user would.
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const SLOW_GATEWAY = fileURLToPath(
  new URL("./__fixtures__/slow-method-gateway.mjs", import.meta.url),
);
const STARTUP_LINE = /listening on (ws:\/\/\S+) \(state dir (.+?) \[(.+?)\], (.+)\)$/m;

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(CLAWKEEP|OPENCLAW|CLAWDBOT)_/.test(name)) env[name] = value;
  }
  return { ...env, HOME: home, ...extra };
}

function run(script: string, args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [script, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, stderr: () => stderr, exited };
}

async function startupLine(running: Running, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = running.stderr().match(STARTUP_LINE);
    if (match !== null) return match;
    if (running.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no startup line; stderr:\n${running.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the build first`);
});

describe("clawkeep-gateway process", () => {
  it("prints the real port, state dir and token file, and serves with that token", async () => {
    const home = await testdir();
    const stateDir = await testdir();
    const running = run(MAIN, ["--port", "0", "--state-dir", stateDir], cleanEnv(home));
    const [, url, shownStateDir, source, token] = await startupLine(running);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    expect(shownStateDir).toBe(stateDir);
    expect(source).toBe("--state-dir");
    const tokenPath = `${stateDir}/clawkeep/gateway.token`;
    expect(token).toBe(`token file ${tokenPath} (created)`);
    expect((await stat(tokenPath)).mode & 0o777).toBe(0o600);

    const tokenValue = (await readFile(tokenPath, "utf8")).trim();
    const client = await connectGateway({
      url: String(url),
      token: tokenValue,
      client: { id: "cli", mode: "cli" },
    });
    expect(client.hello.snapshot.stateDir).toBe(stateDir);
    expect(client.hello.features.methods).toEqual([
      "sessions.list",
      "sessions.preview",
      "sessions.patch",
      "sessions.reset",
      "sessions.delete",
      "sessions.compact",
      "sessions.resolve",
      "sessions.subscribe",
      "sessions.unsubscribe",
      "health",
    ]);
    await expect(client.call("health")).resolves.toMatchObject({
      ok: true,
      stateDir,
      agents: [{ agentId: "main", sessions: 0 }],
    });
    const closed = client.closed;
    running.child.kill("SIGTERM");
    await expect(running.exited).resolves.toBe(0);
    await expect(closed).resolves.toEqual({ code: 1012, reason: "service restart" });

    // The startup line first, in words; every later line one JSON object.
    const [first, ...later] = running.stderr().trimEnd().split("\n");
    expect(first).toMatch(STARTUP_LINE);
    const records = later.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((record) => record.msg === "request")).toEqual([
      expect.objectContaining({ level: "info", method: "connect", ok: true }),
      expect.objectContaining({ level: "info", method: "health", ok: true }),
    ]);
    expect(records.at(-1)).toMatchObject({ level: "info", msg: "stopped" });
    expect(running.stderr()).not.toContain(tokenValue);
  });

  it("answers a request in flight at SIGTERM, then sends shutdown and closes 1012", async () => {
    const home = await testdir();
    const stateDir = await testdir();
    const running = run(
      SLOW_GATEWAY,
      ["--port", "0", "--state-dir", stateDir, "--token", "0123"],
      cleanEnv(home),
    );
    const [, url, , , token] = await startupLine(running);
    expect(token).toBe("token from --token");
    const client = await connectGateway({
      url: String(url),
      token: "0123",
      scopes: ["operator.read"],
      client: { id: "cli", mode: "cli" },
    });
    const order: string[] = [];
    client.on("shutdown", (payload) => order.push(`shutdown ${JSON.stringify(payload)}`));
    const closed = client.closed.then((info) => {
      order.push(`close ${info.code} ${info.reason}`);
    });
    const call = client.call("test.slow", { ms: 700 }).then((payload) => {
      order.push(`response ${JSON.stringify(payload)}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    running.child.kill("SIGTERM");
    await call;
    await closed;
    await expect(running.exited).resolves.toBe(0);
    expect(order).toEqual([
      'response {"slept":700}',
      'shutdown {"reason":"gateway stopping","restartExpectedMs":null}',
      "close 1012 service restart",
    ]);
  });

  it("reads its config from --config over CLAWKEEP_CONFIG_PATH over the state dir's file", async () => {
    const home = await testdir();
    const config = (name: string) => ({
      gateway: { auth: { token: `${name}-token` } },
      session: { mainKey: name },
    });
    const stateDir = await testdir({
      "openclaw.json": config("default"),
      "flag.json": config("flag"),
      "env.json": config("env"),
    });
    const envPath = join(stateDir, "env.json");
    const cases = [
      { name: "flag", args: ["--config", join(stateDir, "flag.json")], env: envPath },
      { name: "env", args: [], env: envPath },
      { name: "default", args: [], env: undefined },
    ];
    for (const { name, args, env } of cases) {
      const running = run(
        MAIN,
        ["--port", "0", "--state-dir", stateDir, ...args],
        cleanEnv(home, env === undefined ? {} : { CLAWKEEP_CONFIG_PATH: env }),
      );
      const [, url, , , token] = await startupLine(running);
      expect(token, name).toBe("token from gateway.auth.token");
      // Only the chosen file's token is accepted.
      const client = await connectGateway({
        url: String(url),
        token: `${name}-token`,
        client: { id: "cli", mode: "cli" },
      });
      expect(client.hello.snapshot.configPath, name).toBe(
        join(stateDir, name === "default" ? "openclaw.json" : `${name}.json`),
      );
      expect(client.hello.snapshot.sessionDefaults?.mainKey, name).toBe(name);
      // The session methods read the same file: `main` is its main session.
      const patched = await client.call<{ key: string }>("sessions.patch", {
        key: "main",
        thinkingLevel: "high",
      });
      expect(patched.key, name).toBe(`agent:main:${name}`);
      await client.close();
      running.child.kill("SIGTERM");
      await expect(running.exited).resolves.toBe(0);
    }
  });

  it("refuses to start on 0.0.0.0 without a configured token (exit 2)", async () => {
    const home = await testdir();
    const stateDir = await testdir();
    const running = run(
      MAIN,
      ["--bind", "0.0.0.0", "--port", "0", "--state-dir", stateDir],
      cleanEnv(home),
    );
    await expect(running.exited).resolves.toBe(2);
    expect(running.stderr()).toContain(
      "clawkeep-gateway: refusing to listen on 0.0.0.0 without a configured token",
    );
    expect(existsSync(`${stateDir}/clawkeep/gateway.token`)).toBe(false);
  });

  it("starts off loopback with a token from the openclaw environment", async () => {
    const home = await testdir();
    const stateDir = await testdir();
    const running = run(
      MAIN,
      ["--port", "0", "--state-dir", stateDir],
      cleanEnv(home, { CLAWKEEP_GATEWAY_BIND: "lan", OPENCLAW_GATEWAY_TOKEN: "env-token" }),
    );
    const [, url, , , token] = await startupLine(running);
    expect(url).toMatch(/^ws:\/\/0\.0\.0\.0:\d+$/);
    expect(token).toBe("token from OPENCLAW_GATEWAY_TOKEN");
    running.child.kill("SIGINT");
    await expect(running.exited).resolves.toBe(0);
  });

  it("exits 2 on bad usage", async () => {
    const home = await testdir();
    const running = run(MAIN, ["--port", "99999"], cleanEnv(home));
    await expect(running.exited).resolves.toBe(2);
    expect(running.stderr()).toContain('invalid port from --port: "99999"');
    const unknown = run(MAIN, ["--frobnicate"], cleanEnv(home));
    await expect(unknown.exited).resolves.toBe(2);
    expect(unknown.stderr()).toContain("Unknown option `--frobnicate`");
  });
});
