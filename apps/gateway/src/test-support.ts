// Helpers for this app's tests: a gateway with stand-in methods on an ephemeral port, and a raw
// WebSocket that shows every frame exactly as sent. Not part of the build (tsconfig.build.json).
import { setTimeout as sleep } from "node:timers/promises";
import { createMethodRegistry, type MethodRegistry } from "@clawkeep/gateway-methods";
import {
  SessionsListParamsSchema,
  SessionsPatchParamsSchema,
  SessionsPreviewParamsSchema,
  SessionsResolveParamsSchema,
} from "@clawkeep/schema";
import { type RawData, WebSocket } from "ws";
import { z } from "zod";
import {
  createGatewayServer,
  type GatewayServer,
  type GatewayServerOptions,
} from "./gateway-server.ts";

export const TEST_TOKEN = "test-token-0123456789abcdef";

/**
 * Stand-ins for the session methods (their real params schemas and scopes, trivial handlers) and
 * a few test methods: `test.echo` (read; emits `test.echoed`), `test.slow` (read; waits `ms`),
 * `test.crash` (throws), `test.unserializable` (returns a BigInt).
 */
export function createTestRegistry(): MethodRegistry {
  const registry = createMethodRegistry();
  registry.register({
    name: "sessions.list",
    scope: "read",
    paramsSchema: SessionsListParamsSchema,
    handler: () => ({ count: 0, sessions: [] }),
  });
  registry.register({
    name: "sessions.preview",
    scope: "read",
    paramsSchema: SessionsPreviewParamsSchema,
    handler: () => ({ previews: [] }),
  });
  registry.register({
    name: "sessions.patch",
    scope: "admin",
    paramsSchema: SessionsPatchParamsSchema,
    handler: (params) => ({ ok: true, key: params.key }),
  });
  registry.register({
    name: "sessions.resolve",
    scope: "read",
    advertised: false,
    paramsSchema: SessionsResolveParamsSchema,
    handler: () => ({ ok: true, key: "agent:main:main" }),
  });
  registry.declareEvent("test.echoed");
  registry.register({
    name: "test.echo",
    scope: "read",
    paramsSchema: z.strictObject({ text: z.string() }),
    handler: (params, context) => {
      context.emit("test.echoed", { text: params.text });
      return { text: params.text, connId: context.client.connId, scopes: context.client.scopes };
    },
  });
  registry.register({
    name: "test.slow",
    scope: "read",
    paramsSchema: z.strictObject({ ms: z.int().min(0) }),
    handler: async (params) => {
      await sleep(params.ms);
      return { slept: params.ms };
    },
  });
  registry.register({
    name: "test.crash",
    scope: "read",
    paramsSchema: z.strictObject({}),
    handler: () => {
      throw new Error("boom with /internal/path");
    },
  });
  registry.register({
    name: "test.unserializable",
    scope: "read",
    paramsSchema: z.strictObject({}),
    handler: () => ({ big: 1n }),
  });
  return registry;
}

export interface TestGateway {
  server: GatewayServer;
  url: string;
  port: number;
}

/** Starts a gateway on 127.0.0.1 with an ephemeral port; stop it with `server.close()`. */
export async function startTestGateway(
  options: Partial<GatewayServerOptions> & { stateDir: string },
): Promise<TestGateway> {
  const server = createGatewayServer({
    registry: createTestRegistry(),
    token: TEST_TOKEN,
    port: 0,
    ...options,
  });
  const address = await server.listen();
  return { server, url: address.url, port: address.port };
}

export type Frame = Record<string, unknown>;

export interface RawSocket {
  socket: WebSocket;
  /** The next frame (parsed), waiting up to `timeoutMs`. */
  next(timeoutMs?: number): Promise<Frame>;
  /** The next frame that is not a `tick` event. */
  nextNonTick(timeoutMs?: number): Promise<Frame>;
  /** The next frame that is not an event (events before it are dropped). */
  nextResponse(timeoutMs?: number): Promise<Frame>;
  /** Sends an object as JSON, a string as a text frame, a Buffer as a binary frame. */
  send(value: unknown): void;
  /** How the socket closed. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket and queues every frame the gateway sends. */
export async function openRaw(url: string): Promise<RawSocket> {
  const socket = new WebSocket(url);
  const frames: Frame[] = [];
  const waiters: Array<(frame: Frame) => void> = [];
  socket.on("message", (data: RawData) => {
    const frame = JSON.parse(data.toString()) as Frame;
    const waiter = waiters.shift();
    if (waiter === undefined) frames.push(frame);
    else waiter(frame);
  });
  socket.on("error", () => {
    // The close event reports what happened; tests assert on it.
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const next = (timeoutMs = 2000) =>
    new Promise<Frame>((resolve, reject) => {
      const queued = frames.shift();
      if (queued !== undefined) {
        resolve(queued);
        return;
      }
      const timer = setTimeout(() => {
        const index = waiters.indexOf(deliver);
        if (index !== -1) waiters.splice(index, 1);
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const deliver = (frame: Frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      waiters.push(deliver);
    });
  return {
    socket,
    next,
    async nextNonTick(timeoutMs) {
      for (;;) {
        const frame = await next(timeoutMs);
        if (frame.type !== "event" || frame.event !== "tick") return frame;
      }
    },
    async nextResponse(timeoutMs) {
      for (;;) {
        const frame = await next(timeoutMs);
        if (frame.type !== "event") return frame;
      }
    },
    send(value) {
      if (typeof value === "string" || Buffer.isBuffer(value)) socket.send(value);
      else socket.send(JSON.stringify(value));
    },
    closed,
  };
}

/** Valid `connect` params for a token-only test client, with `overrides` merged on top. */
export function connectParams(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    minProtocol: 3,
    maxProtocol: 3,
    client: { id: "test", version: "1.0.0", platform: "linux", mode: "test" },
    role: "operator",
    scopes: ["operator.admin"],
    auth: { token: TEST_TOKEN },
    ...overrides,
  };
}

/**
 * Opens a raw socket and completes the handshake with `params`; returns the socket, the
 * challenge and the `hello-ok` response frame.
 */
export async function rawHandshake(
  url: string,
  params: Record<string, unknown> = connectParams(),
): Promise<{ raw: RawSocket; challenge: Frame; hello: Frame }> {
  const raw = await openRaw(url);
  const challenge = await raw.next();
  raw.send({ type: "req", id: "connect-1", method: "connect", params });
  const hello = await raw.next();
  if (hello.ok !== true) throw new Error(`handshake failed: ${JSON.stringify(hello)}`);
  return { raw, challenge, hello };
}
