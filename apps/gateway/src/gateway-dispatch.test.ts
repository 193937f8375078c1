import type { Logger } from "@clawkeep/gateway-methods";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { WebSocket } from "ws";
import type { GatewayServerOptions } from "./gateway-server.ts";
import { connectParams, openRaw, rawHandshake, startTestGateway } from "./test-support.ts";

async function gateway(options: Partial<GatewayServerOptions> = {}) {
  const stateDir = await testdir();
  const started = await startTestGateway({ stateDir, ...options });
  onTestFinished(() => started.server.close());
  return started;
}

async function client(url: string, overrides: Record<string, unknown> = {}) {
  return (await rawHandshake(url, connectParams(overrides))).raw;
}

function invalidRequest(id: string, message: string) {
  return { type: "res", id, ok: false, error: { code: "INVALID_REQUEST", message } };
}

describe("dispatch (reference §8.11)", () => {
  it("#189 answers a frame without id with id 'invalid' and keeps the connection", async () => {
    const { url } = await gateway();
    const raw = await client(url);
    raw.send({ type: "req", method: "sessions.list" });
    expect(await raw.next()).toEqual(
      invalidRequest("invalid", "invalid request frame: must have required property 'id'"),
    );
    raw.send({ type: "req", id: "r2", method: "", extra: true });
    expect(await raw.next()).toEqual(
      invalidRequest(
        "r2",
        "invalid request frame: at /method: must NOT have fewer than 1 characters; at root: unexpected property 'extra'",
      ),
    );
    raw.send({ type: "req", id: "ok", method: "sessions.list" });
    expect(await raw.next()).toMatchObject({ id: "ok", ok: true });
  });

  it("answers garbage and binary frames with INVALID_REQUEST and stays open", async () => {
    const { url } = await gateway();
    const raw = await client(url);
    raw.send("{ not json");
    expect(await raw.next()).toEqual(
      invalidRequest("invalid", "invalid request frame: not valid JSON"),
    );
    raw.send(Buffer.from([0, 159, 146, 150]));
    expect(await raw.next()).toEqual(
      invalidRequest("invalid", "invalid request frame: binary frames are not supported"),
    );
    raw.send("[1,2,3]");
    expect(await raw.next()).toMatchObject({ id: "invalid", error: { code: "INVALID_REQUEST" } });
    raw.send({ type: "req", id: "alive", method: "test.slow", params: { ms: 0 } });
    expect(await raw.next()).toEqual({ type: "res", id: "alive", ok: true, payload: { slept: 0 } });
  });

  it("#190 answers an unknown method for an admin", async () => {
    const { url } = await gateway();
    const raw = await client(url);
    raw.send({ type: "req", id: "u1", method: "foo.bar", params: {} });
    expect(await raw.next()).toEqual(invalidRequest("u1", "unknown method: foo.bar"));
  });

  it("#191 gates by scope: read may list and resolve, not patch nor unknown methods", async () => {
    const { url } = await gateway();
    const raw = await client(url, { scopes: ["operator.read"] });
    raw.send({ type: "req", id: "1", method: "sessions.list", params: {} });
    expect(await raw.next()).toMatchObject({ id: "1", ok: true });
    raw.send({
      type: "req",
      id: "2",
      method: "sessions.patch",
      params: { key: "agent:main:main" },
    });
    expect(await raw.next()).toEqual(invalidRequest("2", "missing scope: operator.admin"));
    // Reversed on purpose: resolve only reads, so it needs operator.read, not admin.
    raw.send({ type: "req", id: "3", method: "sessions.resolve", params: { key: "main" } });
    expect(await raw.next()).toMatchObject({ id: "3", ok: true });
    raw.send({ type: "req", id: "4", method: "sessions.nope", params: {} });
    expect(await raw.next()).toEqual(invalidRequest("4", "missing scope: operator.admin"));
  });

  it("#192 refuses every method to the node role", async () => {
    const { url } = await gateway();
    const raw = await client(url, {
      role: "node",
      client: { id: "node-host", version: "1", platform: "linux", mode: "node" },
    });
    raw.send({ type: "req", id: "n1", method: "sessions.list", params: {} });
    expect(await raw.next()).toEqual(invalidRequest("n1", "unauthorized role: node"));
  });

  it("#193 words validation errors exactly as reference §7.6", async () => {
    const { url } = await gateway();
    const raw = await client(url);
    const cases: Array<[string, unknown, string]> = [
      ["sessions.patch", {}, "invalid sessions.patch params: must have required property 'key'"],
      [
        "sessions.patch",
        { key: "a", foo: 1 },
        "invalid sessions.patch params: at root: unexpected property 'foo'",
      ],
      [
        "sessions.patch",
        { key: "a", label: "x".repeat(65) },
        "invalid sessions.patch params: at /label: must NOT have more than 64 characters; at /label: must be null; at /label: must match a schema in anyOf",
      ],
      [
        "sessions.patch",
        { key: "a", sendPolicy: "maybe" },
        "invalid sessions.patch params: at /sendPolicy: must be equal to constant; at /sendPolicy: must be null; at /sendPolicy: must match a schema in anyOf",
      ],
      [
        "sessions.preview",
        { keys: [] },
        "invalid sessions.preview params: at /keys: must NOT have fewer than 1 items",
      ],
      [
        "sessions.preview",
        { keys: ["a"], maxChars: 10 },
        "invalid sessions.preview params: at /maxChars: must be >= 20",
      ],
      ["sessions.list", { limit: 1.5 }, "invalid sessions.list params: at /limit: must be integer"],
      ["sessions.list", { limit: 0 }, "invalid sessions.list params: at /limit: must be >= 1"],
    ];
    for (const [index, [method, params, message]] of cases.entries()) {
      const id = `v${index}`;
      raw.send({ type: "req", id, method, params });
      expect(await raw.next()).toEqual(invalidRequest(id, message));
    }
  });

  it("hides handler failures behind UNAVAILABLE and logs the stack", async () => {
    const logged: string[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`),
    };
    const { url } = await gateway({ logger });
    const raw = await client(url);
    raw.send({ type: "req", id: "c", method: "test.crash", params: {} });
    const crashed = await raw.next();
    expect(crashed).toMatchObject({
      id: "c",
      ok: false,
      error: {
        code: "UNAVAILABLE",
        message: expect.stringMatching(/^internal error \(reference [0-9a-f]{8}\)$/),
      },
    });
    expect(JSON.stringify(crashed)).not.toContain("/internal/path");
    raw.send({ type: "req", id: "u", method: "test.unserializable", params: {} });
    expect(await raw.next()).toMatchObject({ id: "u", ok: false, error: { code: "UNAVAILABLE" } });
    expect(logged.join("\n")).toContain("boom with /internal/path");
    expect(logged).toHaveLength(2);
  });

  it("closes 1009 on a frame over 8 MiB without serving it", async () => {
    const { url } = await gateway();
    const big = await client(url);
    const watcher = await client(url);
    big.send({
      type: "req",
      id: "big",
      method: "test.echo",
      params: { text: "x".repeat(8 * 1024 * 1024) },
    });
    await expect(big.closed).resolves.toMatchObject({ code: 1009 });
    watcher.send({ type: "req", id: "w", method: "test.slow", params: { ms: 0 } });
    // The next frame the watcher sees is its own answer: no test.echoed event was broadcast.
    expect(await watcher.next()).toMatchObject({ id: "w", ok: true });
  });

  it("limits requests in flight per connection with a retryable UNAVAILABLE", async () => {
    const { url } = await gateway({ maxInFlight: 2 });
    const raw = await client(url);
    for (const id of ["a", "b", "c"]) {
      raw.send({ type: "req", id, method: "test.slow", params: { ms: 150 } });
    }
    expect(await raw.next()).toEqual({
      type: "res",
      id: "c",
      ok: false,
      error: {
        code: "UNAVAILABLE",
        message: "too many requests in flight (limit 2)",
        retryable: true,
      },
    });
    const done = [await raw.next(), await raw.next()].map((frame) => frame.id).sort();
    expect(done).toEqual(["a", "b"]);
    const other = await client(url);
    other.send({ type: "req", id: "d", method: "test.slow", params: { ms: 0 } });
    expect(await other.next()).toMatchObject({ id: "d", ok: true });
  });

  it("broadcasts ticks and handler events with one shared seq", async () => {
    const { url } = await gateway({ tickIntervalMs: 40, now: () => 1234 });
    const first = await client(url);
    const second = await client(url);
    const tickA = await first.next();
    const tickB = await second.next();
    expect(tickA).toEqual({ type: "event", event: "tick", payload: { ts: 1234 }, seq: tickA.seq });
    expect(tickB).toEqual(tickA);
    first.send({ type: "req", id: "e", method: "test.echo", params: { text: "hi" } });
    let event = await second.next();
    while (event.event === "tick") event = await second.next();
    expect(event).toEqual({
      type: "event",
      event: "test.echoed",
      payload: { text: "hi" },
      seq: expect.any(Number),
    });
    expect(event.seq as number).toBeGreaterThan(tickA.seq as number);
  });

  it("gives the handler the connection's identity", async () => {
    const { url } = await gateway();
    const raw = await client(url, { scopes: ["operator.read", "operator.write"] });
    raw.send({ type: "req", id: "e", method: "test.echo", params: { text: "me" } });
    const response = await raw.nextResponse();
    expect(response).toMatchObject({
      ok: true,
      payload: { text: "me", scopes: ["operator.read", "operator.write"] },
    });
  });
});

describe("limits", () => {
  it("refuses upgrades beyond maxConnections with HTTP 503", async () => {
    const { url } = await gateway({ maxConnections: 2 });
    await openRaw(url);
    await openRaw(url);
    const socket = new WebSocket(url);
    const status = await new Promise<number | undefined>((resolve) => {
      socket.on("unexpected-response", (_request, response) => resolve(response.statusCode));
      socket.on("error", () => resolve(undefined));
    });
    expect(status).toBe(503);
  });

  it("drops a client that stops reading (1008 slow consumer)", async () => {
    const { url } = await gateway({ maxBufferedBytes: 64 * 1024 });
    const raw = await client(url);
    raw.socket.pause();
    const text = "x".repeat(1024 * 1024);
    for (let index = 0; index < 24; index += 1) {
      raw.send({ type: "req", id: `r${index}`, method: "test.echo", params: { text } });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    raw.socket.resume();
    await expect(raw.closed).resolves.toEqual({ code: 1008, reason: "slow consumer" });
  });
});

describe("close()", () => {
  it("finishes requests in flight, then sends shutdown and closes 1012", async () => {
    const { url, server } = await gateway();
    const raw = await client(url);
    raw.send({ type: "req", id: "slow", method: "test.slow", params: { ms: 150 } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closing = server.close();
    raw.send({ type: "req", id: "late", method: "test.slow", params: { ms: 0 } });
    expect(await raw.next()).toEqual({
      type: "res",
      id: "late",
      ok: false,
      error: { code: "UNAVAILABLE", message: "gateway stopping", retryable: true },
    });
    expect(await raw.next()).toEqual({
      type: "res",
      id: "slow",
      ok: true,
      payload: { slept: 150 },
    });
    expect(await raw.next()).toEqual({
      type: "event",
      event: "shutdown",
      payload: { reason: "gateway stopping", restartExpectedMs: null },
      seq: expect.any(Number),
    });
    await expect(raw.closed).resolves.toEqual({ code: 1012, reason: "service restart" });
    await closing;
    await expect(server.close()).resolves.toBeUndefined();
  });
});
