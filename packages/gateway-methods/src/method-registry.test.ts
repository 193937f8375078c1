import { SessionsError } from "@clawkeep/schema";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Logger } from "./logger.ts";
import {
  type ConnectedClient,
  createMethodRegistry,
  type MethodContext,
} from "./method-registry.ts";

function client(role: string, scopes: string[]): ConnectedClient {
  return {
    connId: "conn-1",
    role,
    scopes,
    client: { id: "test", version: "1", platform: "linux", mode: "test" },
  };
}

const admin = client("operator", ["operator.admin"]);
const reader = client("operator", ["operator.read"]);
const writer = client("operator", ["operator.write"]);
const node = client("node", ["operator.admin"]);

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(fields === undefined ? {} : { fields }) });
    };
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { logger, lines };
}

function registryWithTestMethods() {
  const registry = createMethodRegistry();
  const calls: Array<{ params: unknown; context: MethodContext }> = [];
  registry.register({
    name: "test.echo",
    scope: "read",
    paramsSchema: z.strictObject({ text: z.string().optional(), limit: z.int().min(1).optional() }),
    handler: (params, context) => {
      calls.push({ params, context });
      return { echoed: params.text ?? null };
    },
  });
  registry.register({
    name: "test.write",
    scope: "write",
    paramsSchema: z.strictObject({}),
    handler: () => ({ ok: true }),
  });
  registry.register({
    name: "test.admin",
    scope: "admin",
    paramsSchema: z.strictObject({ key: z.string().min(1) }),
    handler: async (params) => ({ ok: true, key: params.key }),
  });
  registry.register({
    name: "test.hidden",
    scope: "read",
    advertised: false,
    paramsSchema: z.strictObject({}),
    handler: () => "hidden",
  });
  return { registry, calls };
}

describe("createMethodRegistry: authorization (gateway-wire §3)", () => {
  it("lets operator.admin call every method", async () => {
    const { registry } = registryWithTestMethods();
    for (const method of ["test.echo", "test.write", "test.hidden"]) {
      const result = await registry.dispatch({ id: "1", method }, { client: admin });
      expect(result.ok, method).toBe(true);
    }
    await expect(
      registry.dispatch({ id: "1", method: "test.admin", params: { key: "k" } }, { client: admin }),
    ).resolves.toEqual({ ok: true, payload: { ok: true, key: "k" } });
  });

  it("lets read or write scopes call read methods", async () => {
    const { registry } = registryWithTestMethods();
    await expect(
      registry.dispatch({ id: "1", method: "test.echo" }, { client: reader }),
    ).resolves.toEqual({ ok: true, payload: { echoed: null } });
    await expect(
      registry.dispatch({ id: "1", method: "test.echo" }, { client: writer }),
    ).resolves.toMatchObject({ ok: true });
  });

  it("refuses a read scope on write and admin methods with the captured texts", async () => {
    const { registry } = registryWithTestMethods();
    await expect(
      registry.dispatch({ id: "1", method: "test.write" }, { client: reader }),
    ).resolves.toEqual({
      ok: false,
      error: { code: "INVALID_REQUEST", message: "missing scope: operator.write" },
    });
    await expect(
      registry.dispatch(
        { id: "1", method: "test.admin", params: { key: "k" } },
        { client: reader },
      ),
    ).resolves.toEqual({
      ok: false,
      error: { code: "INVALID_REQUEST", message: "missing scope: operator.admin" },
    });
    await expect(
      registry.dispatch({ id: "1", method: "test.admin" }, { client: writer }),
    ).resolves.toMatchObject({ error: { message: "missing scope: operator.admin" } });
  });

  it("refuses a connection without scopes on read methods", async () => {
    const { registry } = registryWithTestMethods();
    await expect(
      registry.dispatch({ id: "1", method: "test.echo" }, { client: client("operator", []) }),
    ).resolves.toEqual({
      ok: false,
      error: { code: "INVALID_REQUEST", message: "missing scope: operator.read" },
    });
  });

  it("refuses the node role for every method, admin scope or not", async () => {
    const { registry } = registryWithTestMethods();
    for (const method of ["test.echo", "test.admin", "nope.nothing"]) {
      await expect(registry.dispatch({ id: "1", method }, { client: node })).resolves.toEqual({
        ok: false,
        error: { code: "INVALID_REQUEST", message: "unauthorized role: node" },
      });
    }
  });

  it("checks scope before lookup: an unknown method without admin is a missing scope", async () => {
    const { registry } = registryWithTestMethods();
    await expect(
      registry.dispatch({ id: "1", method: "sessions.nope" }, { client: reader }),
    ).resolves.toEqual({
      ok: false,
      error: { code: "INVALID_REQUEST", message: "missing scope: operator.admin" },
    });
    await expect(
      registry.dispatch({ id: "1", method: "sessions.nope" }, { client: admin }),
    ).resolves.toEqual({
      ok: false,
      error: { code: "INVALID_REQUEST", message: "unknown method: sessions.nope" },
    });
  });

  it("checks scope before params: a refused caller learns nothing about the params", async () => {
    const { registry } = registryWithTestMethods();
    await expect(
      registry.dispatch(
        { id: "1", method: "test.admin", params: { bogus: 1 } },
        { client: reader },
      ),
    ).resolves.toMatchObject({ error: { message: "missing scope: operator.admin" } });
  });
});

describe("createMethodRegistry: params", () => {
  it("validates params with the wire wording and never calls the handler", async () => {
    const { registry, calls } = registryWithTestMethods();
    await expect(
      registry.dispatch({ id: "1", method: "test.echo", params: { limit: 0 } }, { client: admin }),
    ).resolves.toEqual({
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message: "invalid test.echo params: at /limit: must be >= 1",
      },
    });
    await expect(
      registry.dispatch({ id: "1", method: "test.echo", params: { foo: 1 } }, { client: admin }),
    ).resolves.toMatchObject({
      error: { message: "invalid test.echo params: at root: unexpected property 'foo'" },
    });
    await expect(
      registry.dispatch({ id: "1", method: "test.admin", params: {} }, { client: admin }),
    ).resolves.toMatchObject({
      error: { message: "invalid test.admin params: must have required property 'key'" },
    });
    expect(calls).toHaveLength(0);
  });

  it("validates absent params as {}", async () => {
    const { registry, calls } = registryWithTestMethods();
    await registry.dispatch({ id: "1", method: "test.echo" }, { client: admin });
    expect(calls[0]?.params).toEqual({});
  });
});

describe("createMethodRegistry: handlers", () => {
  it("hands the handler the request, the client, a logger and the emit hook", async () => {
    const { registry, calls } = registryWithTestMethods();
    const { logger } = recordingLogger();
    const emitted: unknown[] = [];
    await registry.dispatch(
      { id: "req-9", method: "test.echo", params: { text: "hi" } },
      { client: reader, logger, emit: (event, payload) => emitted.push([event, payload]) },
    );
    const context = calls[0]?.context;
    expect(context).toMatchObject({ requestId: "req-9", method: "test.echo", client: reader });
    expect(context?.logger).toBe(logger);
    context?.emit("test.event", { n: 1 });
    expect(emitted).toEqual([["test.event", { n: 1 }]]);
  });

  it("maps a SessionsError through the wire table", async () => {
    const registry = createMethodRegistry();
    registry.register({
      name: "test.fail",
      scope: "read",
      paramsSchema: z.strictObject({ code: z.string() }),
      handler: (params) => {
        throw new SessionsError(params.code as "STORE_LOCKED", `failed with ${params.code}`);
      },
    });
    await expect(
      registry.dispatch(
        { id: "1", method: "test.fail", params: { code: "SESSION_NOT_FOUND" } },
        { client: reader },
      ),
    ).resolves.toEqual({
      ok: false,
      error: { code: "INVALID_REQUEST", message: "failed with SESSION_NOT_FOUND" },
    });
    await expect(
      registry.dispatch(
        { id: "1", method: "test.fail", params: { code: "STORE_LOCKED" } },
        { client: reader },
      ),
    ).resolves.toEqual({
      ok: false,
      error: { code: "UNAVAILABLE", message: "failed with STORE_LOCKED", retryable: true },
    });
  });

  it("turns an unexpected throw into UNAVAILABLE and logs the stack, not the client", async () => {
    const { logger, lines } = recordingLogger();
    const registry = createMethodRegistry({ logger });
    registry.register({
      name: "test.crash",
      scope: "read",
      paramsSchema: z.strictObject({}),
      handler: async () => {
        throw new Error("secret path /etc/shadow");
      },
    });
    const result = await registry.dispatch({ id: "1", method: "test.crash" }, { client: reader });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("UNAVAILABLE");
    expect(result.error.message).toMatch(/^internal error \(reference [0-9a-f]{8}\)$/);
    expect(result.error.message).not.toContain("shadow");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "error", fields: { method: "test.crash" } });
    expect(String(lines[0]?.fields?.error)).toContain("secret path /etc/shadow");
    expect(result.error.message).toContain(String(lines[0]?.fields?.reference));
  });
});

describe("createMethodRegistry: registration", () => {
  it("lists advertised methods in registration order and leaves unadvertised ones out", () => {
    const { registry } = registryWithTestMethods();
    expect(registry.advertisedMethods()).toEqual(["test.echo", "test.write", "test.admin"]);
    expect(registry.has("test.hidden")).toBe(true);
  });

  it("serves unadvertised methods", async () => {
    const { registry } = registryWithTestMethods();
    await expect(
      registry.dispatch({ id: "1", method: "test.hidden" }, { client: reader }),
    ).resolves.toEqual({ ok: true, payload: "hidden" });
  });

  it("refuses duplicate, empty and connect names", () => {
    const { registry } = registryWithTestMethods();
    const definition = {
      scope: "read" as const,
      paramsSchema: z.strictObject({}),
      handler: () => 1,
    };
    expect(() => registry.register({ ...definition, name: "test.echo" })).toThrow(
      "method already registered: test.echo",
    );
    expect(() => registry.register({ ...definition, name: " " })).toThrow(/non-empty/);
    expect(() => registry.register({ ...definition, name: "connect" })).toThrow(/handshake/);
  });

  it("declares events once each, in order", () => {
    const registry = createMethodRegistry();
    registry.declareEvent("sessions.changed");
    registry.declareEvent("test.event");
    registry.declareEvent("sessions.changed");
    expect(registry.declaredEvents()).toEqual(["sessions.changed", "test.event"]);
  });
});
