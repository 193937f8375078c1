// The state of the gateway session tests (reference §8.10) and a gateway serving the real
// session methods over it. Test-only: excluded from the build.
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connectGateway, type GatewayClient } from "@clawkeep/gateway-client";
import {
  createMethodRegistry,
  registerSessionMethods,
  SESSIONS_TOPIC,
  type SessionMethodsOptions,
} from "@clawkeep/gateway-methods";
import { SESSIONS_CHANGED_EVENT } from "@clawkeep/schema";
import { testdir } from "@clawkeep/test-utils";
import { onTestFinished } from "vitest";
import { createGatewayServer, type GatewayServer } from "../gateway-server.ts";
import { TEST_TOKEN } from "../test-support.ts";

export interface SessionsState {
  stateDir: string;
  home: string;
  sessionsDir: string;
  storePath: string;
  configPath: string;
  env: Record<string, string>;
  now: number;
}

/** One transcript line per message, chained by `parentId`, after a v3 header. */
export function transcriptLines(
  sessionId: string,
  messages: readonly Record<string, unknown>[],
  options: { header?: boolean } = {},
): string {
  const lines: string[] = [];
  if (options.header !== false) {
    lines.push(
      JSON.stringify({
        type: "session",
        version: 3,
        id: sessionId,
        timestamp: "2026-02-12T10:00:00.000Z",
        cwd: "/tmp",
      }),
    );
  }
  let parentId: string | null = null;
  messages.forEach((message, index) => {
    const id = `e${String(index).padStart(7, "0")}`;
    lines.push(
      JSON.stringify({
        type: "message",
        id,
        parentId,
        timestamp: "2026-02-12T10:00:01.000Z",
        message,
      }),
    );
    parentId = id;
  });
  return `${lines.join("\n")}\n`;
}

export function userText(text: string): Record<string, unknown> {
  return { role: "user", content: [{ type: "text", text }], timestamp: 1 };
}

export function assistantText(text: string): Record<string, unknown> {
  return { role: "assistant", content: [{ type: "text", text }], timestamp: 1 };
}

/**
 * The fixture of openclaw's gateway session test: main (30 s old, tokens 10/20, thinking low,
 * verbose on, last route whatsapp/+1555/work), a discord group (15 min, totalTokens 50), a
 * subagent spawned by main (15 min) and `global` (10 s); `sess-main.jsonl` has 10 lines,
 * `sess-group.jsonl` one. With `fixedStore`, the config names the store file, so listings report
 * it as `path`.
 */
export async function writeSessionsState(
  options: { fixedStore?: boolean; extraEntries?: Record<string, object> } = {},
): Promise<SessionsState> {
  const stateDir = await testdir();
  const home = await testdir();
  const sessionsDir = join(stateDir, "agents", "main", "sessions");
  const storePath = join(sessionsDir, "sessions.json");
  const configPath = join(stateDir, "openclaw.json");
  const now = Date.now();
  await mkdir(sessionsDir, { recursive: true });
  const store = {
    "agent:main:main": {
      sessionId: "sess-main",
      updatedAt: now - 30_000,
      inputTokens: 10,
      outputTokens: 20,
      thinkingLevel: "low",
      verboseLevel: "on",
      lastChannel: "whatsapp",
      lastTo: "+1555",
      lastAccountId: "work",
      deliveryContext: { channel: "whatsapp", to: "+1555", accountId: "work" },
    },
    "agent:main:discord:group:dev": {
      sessionId: "sess-group",
      updatedAt: now - 15 * 60_000,
      totalTokens: 50,
    },
    "agent:main:subagent:one": {
      sessionId: "sess-sub",
      updatedAt: now - 15 * 60_000,
      spawnedBy: "agent:main:main",
    },
    global: { sessionId: "sess-global", updatedAt: now - 10_000 },
    ...options.extraEntries,
  };
  await writeFile(storePath, JSON.stringify(store, null, 2));
  const mainMessages = Array.from({ length: 9 }, (_, index) =>
    index % 2 === 0 ? userText(`question ${index}`) : assistantText(`answer ${index}`),
  );
  await writeFile(join(sessionsDir, "sess-main.jsonl"), transcriptLines("sess-main", mainMessages));
  await writeFile(
    join(sessionsDir, "sess-group.jsonl"),
    transcriptLines("sess-group", [userText("hello group")], { header: false }),
  );
  const config = options.fixedStore === true ? { session: { store: storePath } } : {};
  await writeFile(configPath, JSON.stringify(config, null, 2));
  return { stateDir, home, sessionsDir, storePath, configPath, env: { HOME: home }, now };
}

export interface SessionsGateway {
  server: GatewayServer;
  url: string;
  /** A connected client with the given scopes (admin by default), closed after the test. */
  connect(scopes?: string[]): Promise<GatewayClient>;
}

/** A gateway on an ephemeral port serving the real session methods over `state`. */
export async function startSessionsGateway(
  state: SessionsState,
  options: Omit<SessionMethodsOptions, "stateDir"> = {},
): Promise<SessionsGateway> {
  const registry = createMethodRegistry();
  let server: GatewayServer | undefined;
  const methods = registerSessionMethods(registry, {
    configPath: state.configPath,
    env: state.env,
    watchDebounceMs: 20,
    ...options,
    stateDir: state.stateDir,
    publishChange: (event) =>
      server?.sendToSubscribers(SESSIONS_TOPIC, SESSIONS_CHANGED_EVENT, event),
  });
  const started = createGatewayServer({
    registry,
    token: TEST_TOKEN,
    stateDir: state.stateDir,
    port: 0,
    describeStores: () => methods.describeStores(),
  });
  server = started;
  const { url } = await started.listen();
  onTestFinished(async () => {
    methods.close();
    await started.close();
  });
  return {
    server: started,
    url,
    async connect(scopes = ["operator.admin"]) {
      const client = await connectGateway({
        url,
        token: TEST_TOKEN,
        scopes,
        client: { id: "test", mode: "test" },
      });
      onTestFinished(async () => {
        await client.close();
      });
      return client;
    },
  };
}

/** The store file's bytes and mtime, to show that a request wrote nothing. */
export async function fileState(path: string): Promise<{ bytes: string; mtimeMs: number }> {
  const [bytes, stats] = await Promise.all([readFile(path, "utf8"), stat(path)]);
  return { bytes, mtimeMs: stats.mtimeMs };
}

export async function readStore(path: string): Promise<Record<string, Record<string, unknown>>> {
  return JSON.parse(await readFile(path, "utf8")) as Record<string, Record<string, unknown>>;
}
