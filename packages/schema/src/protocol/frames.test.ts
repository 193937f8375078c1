import { describe, expect, it } from "vitest";
import { ConnectChallengeSchema, ConnectParamsSchema, HelloOkSchema } from "./connect.ts";
import { ERROR_CODES } from "./error-codes.ts";
import { formatValidationIssues } from "./format-issues.ts";
import {
  EventFrameSchema,
  GatewayFrameSchema,
  RequestFrameSchema,
  ResponseFrameSchema,
} from "./frames.ts";
import { negotiateProtocolVersion, PROTOCOL_VERSION } from "./version.ts";

// Frames as a real openclaw 2026.2.12 gateway and CLI exchanged them (ids shortened).
const capturedConnect = {
  type: "req",
  id: "0add7c98-038c-41ef-ab00-0165686d108d",
  method: "connect",
  params: {
    minProtocol: 3,
    maxProtocol: 3,
    client: {
      id: "cli",
      version: "dev",
      platform: "linux",
      mode: "cli",
      instanceId: "d21ded85-c68a-41ec-91ab-3f879f968bbf",
    },
    caps: [],
    auth: { token: "test-token-0123456789abcdef" },
    role: "operator",
    scopes: ["operator.admin", "operator.approvals", "operator.pairing"],
    device: {
      id: "be6e0ee6e51c56673f1013ef82464f75f999e7a820c58d86ec4e9d8e1915b989",
      publicKey: "PJCmb2YymHWWe-Jacwm0ccQvdQvRvsub0pEwBlgJiuo",
      signature: "meTYmMB8bPQ_rJ8RJjU1CA0dGa9LKFYOsZ9ZOedkwlS8",
      signedAt: 1795502420398,
      nonce: "095de7d9-c2c9-4e0d-b80b-569db36a40c0",
    },
  },
};

const capturedHello = {
  type: "hello-ok",
  protocol: 3,
  server: { version: "dev", host: "vm", connId: "b0fe329a-1897-4469-b553-ef6dfd324ed6" },
  features: { methods: ["health", "sessions.list"], events: ["connect.challenge", "tick"] },
  snapshot: {
    presence: [{ host: "vm", mode: "gateway", reason: "self", ts: 1 }],
    health: { ok: true },
    stateVersion: { presence: 3, health: 8 },
    uptimeMs: 105410,
    configPath: "~/.openclaw/openclaw.json",
    stateDir: "~/.openclaw",
    sessionDefaults: {
      defaultAgentId: "main",
      mainKey: "main",
      mainSessionKey: "agent:main:main",
      scope: "per-sender",
    },
  },
  auth: {
    deviceToken: "ff3460e9ca1649259395ffa1fcd709b6",
    role: "operator",
    scopes: ["operator.admin"],
    issuedAtMs: 1795502420406,
  },
  policy: { maxPayload: 8388608, maxBufferedBytes: 16777216, tickIntervalMs: 30000 },
};

function failure(
  schema: { safeParse(value: unknown): { success: boolean; error?: unknown } },
  value: unknown,
) {
  const result = schema.safeParse(value);
  expect(result.success).toBe(false);
  const issues = (result.error as { issues: Parameters<typeof formatValidationIssues>[0] }).issues;
  return formatValidationIssues(issues, { input: value });
}

describe("frames", () => {
  it("accepts the captured frames", () => {
    expect(RequestFrameSchema.parse(capturedConnect)).toEqual(capturedConnect);
    expect(ConnectParamsSchema.parse(capturedConnect.params)).toEqual(capturedConnect.params);
    expect(HelloOkSchema.parse(capturedHello)).toEqual(capturedHello);
    expect(
      ConnectChallengeSchema.parse({
        nonce: "095de7d9-c2c9-4e0d-b80b-569db36a40c0",
        ts: 1795502420394,
      }),
    ).toBeTruthy();
    expect(
      GatewayFrameSchema.parse({ type: "event", event: "tick", payload: { ts: 1 }, seq: 29 }),
    ).toMatchObject({ type: "event" });
    expect(
      ResponseFrameSchema.parse({
        type: "res",
        id: "x1",
        ok: false,
        error: {
          code: ERROR_CODES.INVALID_REQUEST,
          message: "protocol mismatch",
          details: { expectedProtocol: 3 },
        },
      }),
    ).toBeTruthy();
  });

  it("forbids extra properties on every frame", () => {
    expect(failure(RequestFrameSchema, { type: "req", id: "1", method: "m", extra: 1 })).toBe(
      "at root: unexpected property 'extra'",
    );
    expect(failure(ResponseFrameSchema, { type: "res", id: "1", ok: true, result: {} })).toBe(
      "at root: unexpected property 'result'",
    );
    expect(
      failure(ResponseFrameSchema, {
        type: "res",
        id: "1",
        ok: false,
        error: { code: "INVALID_REQUEST", message: "x", hint: "y" },
      }),
    ).toBe("at /error: unexpected property 'hint'");
    expect(
      failure(EventFrameSchema, {
        type: "event",
        event: "tick",
        stateVersion: { presence: 1, health: 1, x: 1 },
      }),
    ).toBe("at /stateVersion: unexpected property 'x'");
  });

  it("requires a non-empty id and method on a request", () => {
    expect(failure(RequestFrameSchema, { type: "req", method: "health" })).toBe(
      "must have required property 'id'",
    );
    expect(failure(RequestFrameSchema, { type: "req", id: "", method: "" })).toBe(
      "at /id: must NOT have fewer than 1 characters; at /method: must NOT have fewer than 1 characters",
    );
  });

  it("checks seq and retryAfterMs as non-negative integers", () => {
    expect(failure(EventFrameSchema, { type: "event", event: "tick", seq: -1 })).toBe(
      "at /seq: must be >= 0",
    );
    expect(
      failure(ResponseFrameSchema, {
        type: "res",
        id: "1",
        ok: false,
        error: { code: "UNAVAILABLE", message: "busy", retryAfterMs: 1.5 },
      }),
    ).toBe("at /error/retryAfterMs: must be integer");
  });

  it("rejects a frame of an unknown type", () => {
    expect(GatewayFrameSchema.safeParse({ type: "ping", id: "1" }).success).toBe(false);
  });
});

describe("connect params", () => {
  it("accepts every allowed client id and mode, and nothing else", () => {
    const base = capturedConnect.params;
    for (const id of [
      "webchat-ui",
      "openclaw-control-ui",
      "gateway-client",
      "test",
      "openclaw-probe",
    ]) {
      expect(
        ConnectParamsSchema.safeParse({ ...base, client: { ...base.client, id } }).success,
      ).toBe(true);
    }
    for (const mode of ["webchat", "cli", "ui", "backend", "node", "probe", "test"]) {
      expect(
        ConnectParamsSchema.safeParse({ ...base, client: { ...base.client, mode } }).success,
      ).toBe(true);
    }
    expect(
      ConnectParamsSchema.safeParse({ ...base, client: { ...base.client, id: "browser" } }).success,
    ).toBe(false);
    expect(
      ConnectParamsSchema.safeParse({ ...base, client: { ...base.client, mode: "operator" } })
        .success,
    ).toBe(false);
  });

  it("requires protocol bounds and client identity, and forbids unknown keys", () => {
    expect(
      failure(ConnectParamsSchema, { client: capturedConnect.params.client, extra: true }),
    ).toBe(
      "must have required property 'minProtocol'; must have required property 'maxProtocol'; at root: unexpected property 'extra'",
    );
    expect(
      failure(ConnectParamsSchema, {
        ...capturedConnect.params,
        minProtocol: 0,
        auth: { token: 1 },
      }),
    ).toBe("at /minProtocol: must be >= 1; at /auth/token: must be string");
  });

  it("accepts a token-only connect without device and nonce", () => {
    const params = {
      minProtocol: 3,
      maxProtocol: 3,
      client: { id: "test", version: "1", platform: "linux", mode: "test" },
      auth: { token: "t" },
      scopes: ["operator.read"],
    };
    expect(ConnectParamsSchema.safeParse(params).success).toBe(true);
    const { nonce: _nonce, ...deviceWithoutNonce } = capturedConnect.params.device;
    expect(
      ConnectParamsSchema.safeParse({ ...capturedConnect.params, device: deviceWithoutNonce })
        .success,
    ).toBe(true);
  });
});

describe("protocol version", () => {
  it("is 3 and negotiated within the client's range", () => {
    expect(PROTOCOL_VERSION).toBe(3);
    expect(negotiateProtocolVersion(3, 3)).toBe(3);
    expect(negotiateProtocolVersion(1, 5)).toBe(3);
    expect(negotiateProtocolVersion(4, 4)).toBeNull();
    expect(negotiateProtocolVersion(1, 2)).toBeNull();
  });

  it("lists exactly the wire error codes", () => {
    expect(Object.keys(ERROR_CODES).sort()).toEqual([
      "AGENT_TIMEOUT",
      "INVALID_REQUEST",
      "NOT_LINKED",
      "NOT_PAIRED",
      "UNAVAILABLE",
    ]);
  });
});
