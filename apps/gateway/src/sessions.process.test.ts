import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { connectGateway, type GatewayClient } from "@clawkeep/gateway-client";
import { testdir } from "@clawkeep/test-utils";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";

// The built gateway, as a user runs it, and the built store, as another process would use it.
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const STORE = fileURLToPath(new URL("../../../packages/store/dist/index.js", import.meta.url));
const STARTUP_LINE = /listening on (ws:\/\/\S+) \(/m;
const TOKEN = "process-token";

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(CLAWKEEP|OPENCLAW|CLAWDBOT)_/.test(name)) env[name] = value;
  }
  return { ...env, HOME: home };
}

function run(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
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

async function startGateway(
  stateDir: string,
  home: string,
): Promise<{ running: Running; url: string }> {
  const running = run(["--port", "0", "--state-dir", stateDir, "--token", TOKEN], cleanEnv(home));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const match = running.stderr().match(STARTUP_LINE);
    if (match !== null) return { running, url: String(match[1]) };
    if (running.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no startup line; stderr:\n${running.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function connect(url: string, scopes = ["operator.admin"]): Promise<GatewayClient> {
  const client = await connectGateway({
    url,
    token: TOKEN,
    scopes,
    client: { id: "cli", mode: "cli" },
  });
  onTestFinished(async () => {
    await client.close();
  });
  return client;
}

/** Runs `code` (an ES module) in a new Node process with `args`; resolves with its exit code. */
function runNode(code: string, args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", code, ...args], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  return new Promise((resolve) => child.on("exit", (exitCode) => resolve(exitCode)));
}

beforeAll(() => {
  for (const path of [MAIN, STORE]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run the build first`);
  }
});

describe("clawkeep-gateway serving sessions", () => {
  it("takes its session defaults from the config and reports another process's writes", async () => {
    const home = await testdir();
    const stateDir = await testdir();
    const storePath = join(stateDir, "agents", "ops", "sessions", "sessions.json");
    await mkdir(join(stateDir, "agents", "ops", "sessions"), { recursive: true });
    await writeFile(
      storePath,
      JSON.stringify({ "agent:ops:work": { sessionId: "s-ops", updatedAt: 1 } }, null, 2),
    );
    await writeFile(
      join(stateDir, "openclaw.json"),
      JSON.stringify({
        session: { mainKey: "work" },
        agents: { list: [{ id: "ops", default: true }] },
      }),
    );
    const { url } = await startGateway(stateDir, home);
    const subscriber = await connect(url, ["operator.read"]);
    expect(subscriber.hello.snapshot.sessionDefaults).toEqual({
      defaultAgentId: "ops",
      mainKey: "work",
      mainSessionKey: "agent:ops:work",
      scope: "per-sender",
    });
    const frames: unknown[] = [];
    subscriber.on("sessions.changed", (_payload, frame) => frames.push(frame));
    await subscriber.call("sessions.subscribe", {});

    const code = `
      import { updateSessionStore } from ${JSON.stringify(pathToFileURL(STORE).href)};
      await updateSessionStore(process.argv[1], (draft) => {
        draft["agent:ops:from-outside"] = { sessionId: "s-out", updatedAt: Date.now() };
        draft["agent:ops:work"] = { ...draft["agent:ops:work"], label: "main" };
      });
    `;
    await expect(runNode(code, [storePath])).resolves.toBe(0);
    const deadline = Date.now() + 5000;
    while (frames.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(frames).toEqual([
      {
        type: "event",
        event: "sessions.changed",
        payload: {
          key: "agent:ops:from-outside",
          agentId: "ops",
          action: "created",
          ts: expect.any(Number),
        },
      },
      {
        type: "event",
        event: "sessions.changed",
        payload: {
          key: "agent:ops:work",
          agentId: "ops",
          action: "patched",
          ts: expect.any(Number),
        },
      },
    ]);
    const listed = await subscriber.call<{ sessions: { key: string }[] }>("sessions.list", {});
    expect(listed.sessions.map((row) => row.key).sort()).toEqual([
      "agent:ops:from-outside",
      "agent:ops:work",
    ]);
  });

  it("loses no acknowledged patch when SIGTERM arrives during a burst", async () => {
    const home = await testdir();
    const stateDir = await testdir();
    const { running, url } = await startGateway(stateDir, home);
    const client = await connect(url);
    const acknowledged: number[] = [];
    let refused = 0;
    let next = 0;
    let killed = false;
    const worker = async () => {
      for (;;) {
        const index = next;
        next += 1;
        if (index >= 2000) return;
        try {
          await client.call("sessions.patch", { key: `burst:${index}`, label: `v${index}` });
          acknowledged.push(index);
        } catch {
          // Refused while stopping (`gateway stopping`) or cut off by the close: not acknowledged.
          refused += 1;
          return;
        }
        if (!killed && acknowledged.length >= 60) {
          killed = true;
          running.child.kill("SIGTERM");
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await expect(running.exited).resolves.toBe(0);
    expect(killed).toBe(true);
    expect(refused).toBeGreaterThan(0);
    const store = JSON.parse(
      await readFile(join(stateDir, "agents", "main", "sessions", "sessions.json"), "utf8"),
    ) as Record<string, { label?: string }>;
    const missing = acknowledged.filter(
      (index) => store[`agent:main:burst:${index}`]?.label !== `v${index}`,
    );
    expect(missing).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(60);
  });
});
