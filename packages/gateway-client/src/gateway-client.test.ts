import { createPublicKey, verify } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { buildDeviceAuthPayload, generateDeviceIdentity } from "./device-identity.ts";
import { connectGateway, type GatewayClient } from "./gateway-client.ts";
import { GatewayClientError } from "./gateway-client-error.ts";

// A small protocol-speaking server on a real socket: each test scripts what the gateway does.

interface StubConnection {
  socket: WebSocket;
  frames: Array<Record<string, unknown>>;
  next(): Promise<Record<string, unknown>>;
  send(frame: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
}

const servers: WebSocketServer[] = [];
const clients: GatewayClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const server of servers.splice(0)) {
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function startStub(
  onConnection: (connection: StubConnection) => void | Promise<void>,
): Promise<string> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  servers.push(server);
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  server.on("connection", (socket) => {
    const frames: Array<Record<string, unknown>> = [];
    const waiters: Array<(frame: Record<string, unknown>) => void> = [];
    socket.on("message", (data: RawData) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      const waiter = waiters.shift();
      if (waiter === undefined) frames.push(frame);
      else waiter(frame);
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    const connection: StubConnection = {
      socket,
      frames,
      next: () =>
        new Promise((resolve) => {
          const frame = frames.shift();
          if (frame === undefined) waiters.push(resolve);
          else resolve(frame);
        }),
      send: (frame) => socket.send(JSON.stringify(frame)),
      closed,
    };
    void Promise.resolve(onConnection(connection)).catch(() => {
      // A test's assertions inside the stub surface through the client side.
    });
  });
  const { port } = server.address() as AddressInfo;
  return `ws://127.0.0.1:${port}`;
}

function helloOk(overrides: Record<string, unknown> = {}) {
  return {
    type: "hello-ok",
    protocol: 3,
    server: { version: "stub", connId: "conn-1" },
    features: { methods: ["test.echo"], events: ["tick"] },
    snapshot: { presence: [], health: {}, stateVersion: { presence: 0, health: 0 }, uptimeMs: 1 },
    policy: { maxPayload: 8388608, maxBufferedBytes: 16777216, tickIntervalMs: 30000 },
    ...overrides,
  };
}

async function acceptConnect(
  connection: StubConnection,
  hello: Record<string, unknown> = helloOk(),
): Promise<Record<string, unknown>> {
  connection.send({ type: "event", event: "connect.challenge", payload: { nonce: "n-1", ts: 1 } });
  const connect = await connection.next();
  connection.send({ type: "res", id: connect.id, ok: true, payload: hello });
  return connect;
}

async function connect(options: Parameters<typeof connectGateway>[0]): Promise<GatewayClient> {
  const client = await connectGateway(options);
  clients.push(client);
  return client;
}

function verifySignature(device: Record<string, unknown>, payload: string): boolean {
  const key = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: String(device.publicKey) },
    format: "jwk",
  });
  return verify(
    null,
    Buffer.from(payload),
    key,
    Buffer.from(String(device.signature), "base64url"),
  );
}

describe("connectGateway: handshake", () => {
  it("answers the challenge with a v3 connect and resolves with hello-ok", async () => {
    let connectFrame: Record<string, unknown> | undefined;
    const url = await startStub(async (connection) => {
      connectFrame = await acceptConnect(connection);
    });
    const client = await connect({ url, token: "shared", scopes: ["operator.read"] });
    expect(client.hello.server.connId).toBe("conn-1");
    expect(connectFrame).toMatchObject({
      type: "req",
      method: "connect",
      params: {
        minProtocol: 3,
        maxProtocol: 3,
        client: { id: "gateway-client", mode: "backend", platform: process.platform },
        role: "operator",
        scopes: ["operator.read"],
        auth: { token: "shared" },
      },
    });
    expect(connectFrame?.params).not.toHaveProperty("device");
  });

  it("signs the v2 payload over the challenge nonce when it has a device", async () => {
    const device = generateDeviceIdentity();
    let params: Record<string, unknown> = {};
    const url = await startStub(async (connection) => {
      params = (await acceptConnect(connection)).params as Record<string, unknown>;
    });
    await connect({
      url,
      token: "shared",
      device,
      client: { id: "cli", mode: "cli" },
      now: () => 42,
    });
    const sent = params.device as Record<string, unknown>;
    expect(sent).toMatchObject({
      id: device.deviceId,
      publicKey: device.publicKey,
      signedAt: 42,
      nonce: "n-1",
    });
    const payload = `v2|${device.deviceId}|cli|cli|operator|operator.admin|42|shared|n-1`;
    expect(verifySignature(sent, payload)).toBe(true);
  });

  it("connects without a nonce (v1 payload) when no challenge comes in time", async () => {
    const device = generateDeviceIdentity();
    let params: Record<string, unknown> = {};
    const url = await startStub(async (connection) => {
      const frame = await connection.next();
      params = frame.params as Record<string, unknown>;
      connection.send({ type: "res", id: frame.id, ok: true, payload: helloOk() });
    });
    const started = Date.now();
    await connect({ url, token: "t", device, challengeTimeoutMs: 40, now: () => 7 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    const sent = params.device as Record<string, unknown>;
    expect(sent).not.toHaveProperty("nonce");
    const payload = buildDeviceAuthPayload({
      deviceId: device.deviceId,
      clientId: "gateway-client",
      clientMode: "backend",
      role: "operator",
      scopes: ["operator.admin"],
      signedAtMs: 7,
      token: "t",
    });
    expect(payload.startsWith("v1|")).toBe(true);
    expect(verifySignature(sent, payload)).toBe(true);
  });

  it("sends a stored device token instead of the shared token and reports new grants", async () => {
    const device = generateDeviceIdentity();
    let params: Record<string, unknown> = {};
    const grant = {
      deviceToken: "d".repeat(32),
      role: "operator",
      scopes: ["operator.admin"],
      issuedAtMs: 5,
    };
    const url = await startStub(async (connection) => {
      params = (await acceptConnect(connection, helloOk({ auth: grant }))).params as Record<
        string,
        unknown
      >;
    });
    const stored: unknown[] = [];
    await connect({
      url,
      token: "shared",
      deviceToken: "stored-token",
      device,
      onDeviceToken: async (value) => {
        stored.push(value);
      },
    });
    expect(params.auth).toEqual({ token: "stored-token" });
    expect(stored).toEqual([grant]);
  });

  it("rejects with the gateway's code, message and details when connect is refused", async () => {
    const url = await startStub(async (connection) => {
      connection.send({
        type: "event",
        event: "connect.challenge",
        payload: { nonce: "n", ts: 1 },
      });
      const frame = await connection.next();
      connection.send({
        type: "res",
        id: frame.id,
        ok: false,
        error: { code: "NOT_PAIRED", message: "pairing required", details: { requestId: "r-1" } },
      });
      connection.socket.close(1008, "pairing required");
    });
    const error = await connectGateway({ url, token: "t" }).catch((caught: unknown) => caught);
    expect(GatewayClientError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: "NOT_PAIRED",
      message: "pairing required",
      details: { requestId: "r-1" },
    });
  });

  it("rejects with CLIENT_CLOSED and the close code when the gateway hangs up", async () => {
    const url = await startStub(async (connection) => {
      await connection.next();
      connection.socket.close(1008, "invalid request frame");
    });
    await expect(connectGateway({ url, challengeTimeoutMs: 1 })).rejects.toMatchObject({
      code: "CLIENT_CLOSED",
      closeCode: 1008,
      closeReason: "invalid request frame",
    });
  });

  it("rejects with CLIENT_TIMEOUT when no hello-ok comes", async () => {
    const url = await startStub(() => {});
    await expect(
      connectGateway({ url, challengeTimeoutMs: 1, handshakeTimeoutMs: 60 }),
    ).rejects.toMatchObject({ code: "CLIENT_TIMEOUT" });
  });

  it("rejects with CLIENT_CONNECT_FAILED when nothing listens", async () => {
    const url = await startStub(() => {});
    const server = servers.pop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await expect(connectGateway({ url })).rejects.toMatchObject({ code: "CLIENT_CONNECT_FAILED" });
  });
});

describe("GatewayClient", () => {
  it("matches responses by id, whatever their order", async () => {
    const url = await startStub(async (connection) => {
      await acceptConnect(connection);
      const first = await connection.next();
      const second = await connection.next();
      connection.send({ type: "res", id: second.id, ok: true, payload: { n: 2 } });
      connection.send({ type: "res", id: first.id, ok: true, payload: { n: 1 } });
    });
    const client = await connect({ url, token: "t" });
    const [one, two] = await Promise.all([client.call("a", { x: 1 }), client.call("b")]);
    expect(one).toEqual({ n: 1 });
    expect(two).toEqual({ n: 2 });
  });

  it("rejects a failed call with the wire error", async () => {
    const url = await startStub(async (connection) => {
      await acceptConnect(connection);
      const frame = await connection.next();
      expect(frame).toEqual({ type: "req", id: frame.id, method: "m", params: { a: 1 } });
      connection.send({
        type: "res",
        id: frame.id,
        ok: false,
        error: { code: "UNAVAILABLE", message: "busy", retryable: true },
      });
    });
    const client = await connect({ url, token: "t" });
    await expect(client.call("m", { a: 1 })).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: "busy",
      retryable: true,
    });
  });

  it("times a call out and rejects pending calls when the connection closes", async () => {
    let stub: StubConnection | undefined;
    const url = await startStub(async (connection) => {
      stub = connection;
      await acceptConnect(connection);
    });
    const client = await connect({ url, token: "t" });
    await expect(client.call("slow", undefined, { timeoutMs: 30 })).rejects.toMatchObject({
      code: "CLIENT_TIMEOUT",
    });
    const pending = client.call("never");
    stub?.socket.close(1012, "service restart");
    await expect(pending).rejects.toMatchObject({ code: "CLIENT_CLOSED", closeCode: 1012 });
    await expect(client.closed).resolves.toEqual({ code: 1012, reason: "service restart" });
    await expect(client.call("after")).rejects.toMatchObject({ code: "CLIENT_CLOSED" });
  });

  it("delivers events to their listeners and to '*', and tracks seq", async () => {
    let stub: StubConnection | undefined;
    const url = await startStub(async (connection) => {
      stub = connection;
      await acceptConnect(connection);
    });
    const client = await connect({ url, token: "t" });
    const named: unknown[] = [];
    const all: string[] = [];
    const off = client.on("test.event", (payload) => named.push(payload));
    client.on("*", (_payload, frame) => all.push(frame.event));
    stub?.send({ type: "event", event: "test.event", payload: { n: 1 }, seq: 4 });
    stub?.send({ type: "event", event: "tick", payload: { ts: 1 }, seq: 5 });
    await expect.poll(() => all).toEqual(["test.event", "tick"]);
    off();
    stub?.send({ type: "event", event: "test.event", payload: { n: 2 }, seq: 6 });
    await expect.poll(() => all.length).toBe(3);
    expect(named).toEqual([{ n: 1 }]);
    expect(client.lastSeq).toBe(6);
  });

  it("closes with 4000 tick timeout when ticks stop", async () => {
    let serverSide: Promise<{ code: number; reason: string }> | undefined;
    const url = await startStub(async (connection) => {
      serverSide = connection.closed;
      await acceptConnect(
        connection,
        helloOk({ policy: { maxPayload: 1, maxBufferedBytes: 1, tickIntervalMs: 20 } }),
      );
    });
    const client = await connect({ url, token: "t" });
    await expect(client.closed).resolves.toEqual({ code: 4000, reason: "tick timeout" });
    await expect(serverSide).resolves.toEqual({ code: 4000, reason: "tick timeout" });
  });
});
