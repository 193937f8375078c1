import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import type { GatewayServerOptions } from "./gateway-server.ts";
import {
  connectParams,
  openRaw,
  rawHandshake,
  startTestGateway,
  TEST_TOKEN,
} from "./test-support.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function gateway(options: Partial<GatewayServerOptions> = {}) {
  const stateDir = await testdir();
  const started = await startTestGateway({ stateDir, ...options });
  onTestFinished(() => started.server.close());
  return { ...started, stateDir };
}

describe("handshake (gateway-wire §2, §6; reference §8.11)", () => {
  it("#185 speaks first: connect.challenge with a UUID nonce and ts, without seq", async () => {
    const { url } = await gateway({ now: () => 1_795_502_420_394 });
    const raw = await openRaw(url);
    const challenge = await raw.next();
    expect(challenge).toEqual({
      type: "event",
      event: "connect.challenge",
      payload: { nonce: expect.stringMatching(UUID), ts: 1_795_502_420_394 },
    });
    const other = await openRaw(url);
    const second = await other.next();
    expect((second.payload as { nonce: string }).nonce).not.toBe(
      (challenge.payload as { nonce: string }).nonce,
    );
  });

  it("closes 1000 without a response when the first frame is not JSON", async () => {
    const { url } = await gateway();
    const raw = await openRaw(url);
    await raw.next();
    raw.send("this is not json");
    await expect(raw.closed).resolves.toEqual({ code: 1000, reason: "" });
    await expect(raw.next(50)).rejects.toThrow(/no frame/);
  });

  it("closes 1008 without a response when the first frame is JSON but not a request", async () => {
    const { url } = await gateway();
    const raw = await openRaw(url);
    await raw.next();
    raw.send({ type: "event", event: "hello" });
    await expect(raw.closed).resolves.toEqual({ code: 1008, reason: "invalid request frame" });
    await expect(raw.next(50)).rejects.toThrow(/no frame/);
  });

  it("closes 1008 without a response when the first frame is binary", async () => {
    const { url } = await gateway();
    const raw = await openRaw(url);
    await raw.next();
    raw.send(Buffer.from(JSON.stringify({ type: "req", id: "1", method: "connect" })));
    await expect(raw.closed).resolves.toEqual({ code: 1008, reason: "invalid request frame" });
  });

  it("#186 refuses a first request that is not connect, then closes 1008", async () => {
    const { url } = await gateway();
    const raw = await openRaw(url);
    await raw.next();
    raw.send({ type: "req", id: "x1", method: "health" });
    expect(await raw.next()).toEqual({
      type: "res",
      id: "x1",
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message: "invalid handshake: first request must be connect",
      },
    });
    await expect(raw.closed).resolves.toEqual({
      code: 1008,
      reason: "invalid handshake: first request must be connect",
    });
  });

  it("refuses invalid connect params with the wire wording, then closes 1008", async () => {
    const { url } = await gateway();
    const raw = await openRaw(url);
    await raw.next();
    raw.send({
      type: "req",
      id: "c1",
      method: "connect",
      params: { ...connectParams(), client: undefined, bogus: true },
    });
    const response = await raw.next();
    expect(response).toEqual({
      type: "res",
      id: "c1",
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message:
          "invalid connect params: must have required property 'client'; at root: unexpected property 'bogus'",
      },
    });
    await expect(raw.closed).resolves.toEqual({
      code: 1008,
      reason:
        "invalid connect params: must have required property 'client'; at root: unexpected property 'bogus'",
    });
  });

  it("cuts a long close reason to the 123 bytes a close frame can carry", async () => {
    const { url } = await gateway();
    const raw = await openRaw(url);
    await raw.next();
    const params = connectParams({
      client: { id: "nope", version: "", platform: "", mode: "nope", extra: 1 },
    });
    raw.send({ type: "req", id: "c1", method: "connect", params });
    const response = await raw.next();
    const message = (response.error as { message: string }).message;
    expect(Buffer.byteLength(message)).toBeGreaterThan(123);
    const closed = await raw.closed;
    expect(closed.code).toBe(1008);
    expect(message.startsWith(closed.reason)).toBe(true);
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
  });

  it("#187 answers protocol mismatch with expectedProtocol and closes 1002", async () => {
    const { url } = await gateway();
    for (const range of [
      { minProtocol: 4, maxProtocol: 4 },
      { minProtocol: 1, maxProtocol: 2 },
    ]) {
      const raw = await openRaw(url);
      await raw.next();
      raw.send({ type: "req", id: "p1", method: "connect", params: connectParams(range) });
      expect(await raw.next()).toEqual({
        type: "res",
        id: "p1",
        ok: false,
        error: {
          code: "INVALID_REQUEST",
          message: "protocol mismatch",
          details: { expectedProtocol: 3 },
        },
      });
      await expect(raw.closed).resolves.toEqual({ code: 1002, reason: "protocol mismatch" });
    }
  });

  it("accepts a range that contains 3", async () => {
    const { url } = await gateway();
    const { hello } = await rawHandshake(url, connectParams({ minProtocol: 2, maxProtocol: 5 }));
    expect((hello.payload as { protocol: number }).protocol).toBe(3);
  });

  it("#188 refuses a role other than operator or node", async () => {
    const { url } = await gateway();
    const raw = await openRaw(url);
    await raw.next();
    raw.send({
      type: "req",
      id: "r1",
      method: "connect",
      params: connectParams({ role: "admin" }),
    });
    expect(await raw.next()).toEqual({
      type: "res",
      id: "r1",
      ok: false,
      error: { code: "INVALID_REQUEST", message: "invalid role" },
    });
    await expect(raw.closed).resolves.toEqual({ code: 1008, reason: "invalid role" });
  });

  it("closes a socket that does not complete connect in time", async () => {
    const { url } = await gateway({ handshakeTimeoutMs: 80 });
    const raw = await openRaw(url);
    await raw.next();
    await expect(raw.closed).resolves.toEqual({ code: 1008, reason: "handshake timeout" });
  });

  it("answers hello-ok with advertised methods, own events, snapshot and policy", async () => {
    const { url, stateDir } = await gateway({
      configPath: "/etc/clawkeep/openclaw.json",
      sessionDefaults: {
        defaultAgentId: "ops",
        mainKey: "home",
        mainSessionKey: "agent:ops:home",
        scope: "per-sender",
      },
    });
    const { hello } = await rawHandshake(url);
    expect(hello).toEqual({
      type: "res",
      id: "connect-1",
      ok: true,
      payload: {
        type: "hello-ok",
        protocol: 3,
        server: { version: "0.1.0", host: expect.any(String), connId: expect.stringMatching(UUID) },
        features: {
          methods: [
            "sessions.list",
            "sessions.preview",
            "sessions.patch",
            "test.echo",
            "test.slow",
            "test.crash",
            "test.unserializable",
            "health",
          ],
          events: ["connect.challenge", "tick", "shutdown", "test.echoed"],
        },
        snapshot: {
          presence: [],
          health: {},
          stateVersion: { presence: 0, health: 0 },
          uptimeMs: expect.any(Number),
          configPath: "/etc/clawkeep/openclaw.json",
          stateDir,
          sessionDefaults: {
            defaultAgentId: "ops",
            mainKey: "home",
            mainSessionKey: "agent:ops:home",
            scope: "per-sender",
          },
        },
        policy: { maxPayload: 8_388_608, maxBufferedBytes: 16_777_216, tickIntervalMs: 30_000 },
      },
    });
  });

  it("answers a second connect with an error and keeps the connection", async () => {
    const { url } = await gateway();
    const { raw } = await rawHandshake(url);
    raw.send({ type: "req", id: "again", method: "connect", params: connectParams() });
    expect(await raw.next()).toEqual({
      type: "res",
      id: "again",
      ok: false,
      error: { code: "INVALID_REQUEST", message: "connect is only valid as the first request" },
    });
    raw.send({ type: "req", id: "e1", method: "test.echo", params: { text: "still here" } });
    expect(await raw.nextResponse()).toMatchObject({ id: "e1", ok: true });
  });

  it("serves requests sent right behind connect, after hello-ok", async () => {
    const { url } = await gateway();
    const raw = await openRaw(url);
    await raw.next();
    raw.send({ type: "req", id: "c", method: "connect", params: connectParams() });
    raw.send({ type: "req", id: "e", method: "test.echo", params: { text: "early" } });
    expect(await raw.next()).toMatchObject({ id: "c", ok: true });
    const frames = [await raw.next(), await raw.next()];
    expect(frames).toContainEqual(
      expect.objectContaining({
        id: "e",
        ok: true,
        payload: expect.objectContaining({ text: "early" }),
      }),
    );
  });

  it("refuses browser origins it was not told to allow", async () => {
    const { url } = await gateway();
    const { WebSocket } = await import("ws");
    const socket = new WebSocket(url, { origin: "https://evil.example" });
    const status = await new Promise<number | undefined>((resolve) => {
      socket.on("unexpected-response", (_request, response) => resolve(response.statusCode));
      socket.on("error", () => resolve(undefined));
    });
    expect(status).toBe(403);
  });

  it("uses the token it was given, not a default", async () => {
    const { url } = await gateway({ token: "another-token" });
    const raw = await openRaw(url);
    await raw.next();
    raw.send({ type: "req", id: "c", method: "connect", params: connectParams() });
    expect(await raw.next()).toMatchObject({
      ok: false,
      error: { code: "INVALID_REQUEST", message: expect.stringContaining("token mismatch") },
    });
    const { hello } = await rawHandshake(url, connectParams({ auth: { token: "another-token" } }));
    expect(hello.ok).toBe(true);
    expect(TEST_TOKEN).not.toBe("another-token");
  });
});
