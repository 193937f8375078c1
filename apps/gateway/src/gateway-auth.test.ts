import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  buildDeviceAuthPayload,
  connectGateway,
  type DeviceIdentity,
  type DeviceTokenGrant,
  generateDeviceIdentity,
  signDeviceAuthPayload,
} from "@clawkeep/gateway-client";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { approveDevice, listDevices, resolveDevicesDir, revokeDevice } from "./device-store.ts";
import type { GatewayServerOptions } from "./gateway-server.ts";
import {
  connectParams,
  type Frame,
  openRaw,
  rawHandshake,
  startTestGateway,
  TEST_TOKEN,
} from "./test-support.ts";

const TOKEN_HINT = "(set gateway.remote.token to match gateway.auth.token)";

async function gateway(options: Partial<GatewayServerOptions> = {}) {
  const stateDir = await testdir();
  const started = await startTestGateway({ stateDir, ...options });
  onTestFinished(() => started.server.close());
  return { ...started, stateDir };
}

interface DeviceOptions {
  token?: string | undefined;
  nonce?: string | undefined;
  signedAt?: number;
  scopes?: string[];
  role?: string;
}

/** A signed `device` block, as a real client builds it. */
function deviceBlock(identity: DeviceIdentity, options: DeviceOptions) {
  const signedAt = options.signedAt ?? Date.now();
  const payload = buildDeviceAuthPayload({
    deviceId: identity.deviceId,
    clientId: "test",
    clientMode: "test",
    role: options.role ?? "operator",
    scopes: options.scopes ?? ["operator.admin"],
    signedAtMs: signedAt,
    token: options.token,
    nonce: options.nonce,
  });
  return {
    id: identity.deviceId,
    publicKey: identity.publicKey,
    signature: signDeviceAuthPayload(identity, payload),
    signedAt,
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
  };
}

/**
 * Opens a socket, builds connect params from the challenge nonce, sends them and returns the
 * response with the socket.
 */
async function connectWith(
  url: string,
  build: (nonce: string) => Record<string, unknown>,
): Promise<{
  response: Frame;
  closed: Promise<{ code: number; reason: string }>;
  send: (v: unknown) => void;
  next: () => Promise<Frame>;
}> {
  const raw = await openRaw(url);
  const challenge = await raw.next();
  const nonce = (challenge.payload as { nonce: string }).nonce;
  raw.send({ type: "req", id: "c1", method: "connect", params: build(nonce) });
  const response = await raw.next();
  return { response, closed: raw.closed, send: raw.send, next: () => raw.nextResponse() };
}

function deviceConnect(
  identity: DeviceIdentity,
  options: DeviceOptions & { sendToken?: string | undefined },
) {
  return (nonce: string) => {
    const token = "sendToken" in options ? options.sendToken : TEST_TOKEN;
    const scopes = options.scopes ?? ["operator.admin"];
    return connectParams({
      scopes,
      ...(token === undefined ? { auth: undefined } : { auth: { token } }),
      device: deviceBlock(identity, { nonce, token, ...options }),
    });
  };
}

async function expectRefused(
  result: Awaited<ReturnType<typeof connectWith>>,
  error: Record<string, unknown>,
  close: { code: number; reason: string } = { code: 1008, reason: String(error.message) },
) {
  expect(result.response).toEqual({ type: "res", id: "c1", ok: false, error });
  await expect(result.closed).resolves.toEqual(close);
}

describe("shared token (gateway-wire §2)", () => {
  it("refuses a client with neither token nor device: device identity required", async () => {
    const { url } = await gateway();
    const result = await connectWith(url, () => connectParams({ auth: undefined }));
    await expectRefused(result, { code: "NOT_PAIRED", message: "device identity required" });
  });

  it("refuses a wrong token without a device: token mismatch, close 1008", async () => {
    const { url } = await gateway();
    const result = await connectWith(url, () => connectParams({ auth: { token: "wrong" } }));
    await expectRefused(result, {
      code: "INVALID_REQUEST",
      message: `unauthorized: gateway token mismatch ${TOKEN_HINT}`,
    });
  });

  it("treats an empty token without a device as no token: device identity required", async () => {
    const { url } = await gateway();
    const result = await connectWith(url, () => connectParams({ auth: { token: "" } }));
    await expectRefused(result, { code: "NOT_PAIRED", message: "device identity required" });
  });

  it("trusts the scopes a token-only client claims and sends no auth block", async () => {
    const { url } = await gateway();
    const { raw, hello } = await rawHandshake(url, connectParams({ scopes: ["operator.read"] }));
    expect(hello.payload).not.toHaveProperty("auth");
    raw.send({ type: "req", id: "1", method: "sessions.list", params: {} });
    expect(await raw.nextResponse()).toMatchObject({ id: "1", ok: true });
    raw.send({ type: "req", id: "2", method: "sessions.patch", params: { key: "k" } });
    expect(await raw.nextResponse()).toEqual({
      type: "res",
      id: "2",
      ok: false,
      error: { code: "INVALID_REQUEST", message: "missing scope: operator.admin" },
    });
  });
});

describe("device identity", () => {
  it("refuses a device with a wrong token: token mismatch, close 1008", async () => {
    const { url } = await gateway();
    const identity = generateDeviceIdentity();
    const result = await connectWith(url, deviceConnect(identity, { sendToken: "wrong" }));
    await expectRefused(result, {
      code: "INVALID_REQUEST",
      message: `unauthorized: gateway token mismatch ${TOKEN_HINT}`,
    });
  });

  it("refuses a device without any token: token missing", async () => {
    const { url } = await gateway();
    const identity = generateDeviceIdentity();
    const result = await connectWith(url, deviceConnect(identity, { sendToken: undefined }));
    await expectRefused(result, {
      code: "INVALID_REQUEST",
      message: `unauthorized: gateway token missing ${TOKEN_HINT}`,
    });
  });

  it("refuses a signature over different fields: device signature invalid", async () => {
    const { url } = await gateway();
    const identity = generateDeviceIdentity();
    const result = await connectWith(url, (nonce) => {
      const params = deviceConnect(identity, {})(nonce);
      // Signed for operator.admin, but asks for more.
      return { ...params, scopes: ["operator.admin", "operator.pairing"] };
    });
    await expectRefused(result, { code: "INVALID_REQUEST", message: "device signature invalid" });
  });

  it("refuses a nonce that is not this connection's challenge", async () => {
    const { url } = await gateway();
    const identity = generateDeviceIdentity();
    const result = await connectWith(url, () =>
      deviceConnect(identity, {})("6d1f0c2e-0000-4000-8000-000000000000"),
    );
    await expectRefused(result, { code: "INVALID_REQUEST", message: "device nonce mismatch" });
  });

  it("refuses a signature older or newer than 10 minutes: device signature expired", async () => {
    const { url } = await gateway();
    const identity = generateDeviceIdentity();
    for (const offset of [-11 * 60_000, 11 * 60_000]) {
      const result = await connectWith(url, (nonce) =>
        deviceConnect(identity, { signedAt: Date.now() + offset })(nonce),
      );
      await expectRefused(result, { code: "INVALID_REQUEST", message: "device signature expired" });
    }
    const fresh = await connectWith(url, (nonce) =>
      deviceConnect(identity, { signedAt: Date.now() - 9 * 60_000 })(nonce),
    );
    expect(fresh.response.ok).toBe(true);
  });

  it("refuses an id that is not the sha256 of the key: device identity mismatch", async () => {
    const { url } = await gateway();
    const identity = generateDeviceIdentity();
    const other = generateDeviceIdentity();
    const result = await connectWith(url, (nonce) => {
      const params = deviceConnect(identity, {})(nonce);
      return { ...params, device: { ...(params.device as object), publicKey: other.publicKey } };
    });
    await expectRefused(result, { code: "INVALID_REQUEST", message: "device identity mismatch" });
  });

  it("refuses a key that is not an ed25519 key: device public key invalid", async () => {
    const { url } = await gateway();
    const bytes = Buffer.alloc(31, 7);
    const { createHash } = await import("node:crypto");
    const fake = {
      deviceId: createHash("sha256").update(bytes).digest("hex"),
      publicKey: bytes.toString("base64url"),
    };
    const result = await connectWith(url, (nonce) => {
      const params = deviceConnect(generateDeviceIdentity(), {})(nonce);
      return {
        ...params,
        device: { ...(params.device as object), id: fake.deviceId, publicKey: fake.publicKey },
      };
    });
    await expectRefused(result, { code: "INVALID_REQUEST", message: "device public key invalid" });
  });

  it("accepts a loopback device without a nonce (v1 payload)", async () => {
    const { url } = await gateway();
    const identity = generateDeviceIdentity();
    const result = await connectWith(url, () => deviceConnect(identity, {})(undefined as never));
    expect(result.response.ok).toBe(true);
  });

  it("requires a nonce from a remote device", async () => {
    const { url } = await gateway({ isLoopback: () => false });
    const identity = generateDeviceIdentity();
    const result = await connectWith(url, () => deviceConnect(identity, {})(undefined as never));
    await expectRefused(result, { code: "INVALID_REQUEST", message: "device nonce required" });
  });
});

describe("pairing and device tokens", () => {
  it("pairs a loopback device silently and issues a device token, stored 0600", async () => {
    const { url, stateDir } = await gateway();
    const identity = generateDeviceIdentity();
    const result = await connectWith(url, deviceConnect(identity, {}));
    expect(result.response).toMatchObject({ ok: true });
    const auth = (result.response.payload as { auth: Record<string, unknown> }).auth;
    expect(auth).toEqual({
      deviceToken: expect.stringMatching(/^[0-9a-f]{32}$/),
      role: "operator",
      scopes: ["operator.admin"],
      issuedAtMs: expect.any(Number),
    });
    const dir = resolveDevicesDir(stateDir);
    expect(dir).toBe(join(stateDir, "clawkeep", "devices"));
    expect((await stat(join(dir, "paired.json"))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const paired = JSON.parse(await readFile(join(dir, "paired.json"), "utf8"));
    expect(paired.devices[identity.deviceId]).toMatchObject({
      deviceId: identity.deviceId,
      publicKey: identity.publicKey,
      roles: ["operator"],
      scopes: ["operator.admin"],
      approvedBy: "loopback",
    });
  });

  it("accepts the device token instead of the shared token, for that device and scopes", async () => {
    const { url } = await gateway();
    const identity = generateDeviceIdentity();
    const first = await connectWith(url, deviceConnect(identity, {}));
    const { deviceToken } = (first.response.payload as { auth: { deviceToken: string } }).auth;

    const again = await connectWith(url, deviceConnect(identity, { sendToken: deviceToken }));
    expect(again.response).toMatchObject({ ok: true, payload: { auth: { deviceToken } } });
    const narrower = await connectWith(
      url,
      deviceConnect(identity, { sendToken: deviceToken, scopes: [] }),
    );
    expect(narrower.response.ok).toBe(true);

    const broader = await connectWith(
      url,
      deviceConnect(identity, {
        sendToken: deviceToken,
        scopes: ["operator.admin", "operator.pairing"],
      }),
    );
    await expectRefused(broader, {
      code: "INVALID_REQUEST",
      message: `unauthorized: gateway token mismatch ${TOKEN_HINT}`,
    });
    const otherDevice = await connectWith(
      url,
      deviceConnect(generateDeviceIdentity(), { sendToken: deviceToken }),
    );
    expect(otherDevice.response).toMatchObject({
      ok: false,
      error: { message: `unauthorized: gateway token mismatch ${TOKEN_HINT}` },
    });
  });

  it("stores the granted token through the client and reconnects with it alone", async () => {
    const { url } = await gateway();
    const device = generateDeviceIdentity();
    const grants: DeviceTokenGrant[] = [];
    const first = await connectGateway({
      url,
      token: TEST_TOKEN,
      device,
      client: { id: "cli", mode: "cli" },
      onDeviceToken: (grant) => {
        grants.push(grant);
      },
    });
    await first.close();
    expect(grants).toHaveLength(1);
    const stored = grants[0]?.deviceToken ?? "";
    expect(stored).toMatch(/^[0-9a-f]{32}$/);
    const second = await connectGateway({
      url,
      deviceToken: stored,
      device,
      client: { id: "cli", mode: "cli" },
    });
    expect(second.hello.auth?.deviceToken).toBe(stored);
    await expect(second.call("test.echo", { text: "hi" })).resolves.toMatchObject({ text: "hi" });
    await second.close();
  });

  it("asks a remote device to wait for approval, then lets it in once approved", async () => {
    const { url, stateDir } = await gateway({ isLoopback: () => false });
    const identity = generateDeviceIdentity();
    const first = await connectWith(url, deviceConnect(identity, { scopes: ["operator.read"] }));
    expect(first.response).toEqual({
      type: "res",
      id: "c1",
      ok: false,
      error: {
        code: "NOT_PAIRED",
        message: "pairing required",
        details: { requestId: expect.any(String) },
      },
    });
    await expect(first.closed).resolves.toEqual({ code: 1008, reason: "pairing required" });
    const requestId = (first.response.error as { details: { requestId: string } }).details
      .requestId;

    const retry = await connectWith(url, deviceConnect(identity, { scopes: ["operator.read"] }));
    expect(retry.response).toMatchObject({ error: { details: { requestId } } });

    const listed = await listDevices(stateDir);
    expect(listed.paired).toEqual([]);
    expect(listed.pending).toEqual([
      expect.objectContaining({
        requestId,
        deviceId: identity.deviceId,
        role: "operator",
        scopes: ["operator.read"],
        remoteAddress: "127.0.0.1",
      }),
    ]);

    const later = () => Date.now() + 2 * 60 * 60 * 1000;
    expect((await listDevices(stateDir, { now: later })).pending).toEqual([]);
    await expect(approveDevice(stateDir, requestId, { now: later })).rejects.toMatchObject({
      code: "INVALID_PARAMS",
      message: `no pending pairing request: ${requestId}`,
    });

    const approved = await approveDevice(stateDir, requestId);
    expect(approved).toMatchObject({ deviceId: identity.deviceId, approvedBy: "operator" });
    expect((await listDevices(stateDir)).pending).toEqual([]);

    const admitted = await connectWith(url, deviceConnect(identity, { scopes: ["operator.read"] }));
    expect(admitted.response).toMatchObject({ ok: true, payload: { auth: { role: "operator" } } });
    const upgrade = await connectWith(url, deviceConnect(identity, { scopes: ["operator.admin"] }));
    expect(upgrade.response).toMatchObject({
      ok: false,
      error: { code: "NOT_PAIRED", message: "pairing required" },
    });
    await expect(approveDevice(stateDir, "no-such-request")).rejects.toMatchObject({
      code: "INVALID_PARAMS",
    });
  });

  it("forgets a revoked device and its tokens", async () => {
    const { url, stateDir } = await gateway();
    const identity = generateDeviceIdentity();
    const first = await connectWith(url, deviceConnect(identity, {}));
    const { deviceToken } = (first.response.payload as { auth: { deviceToken: string } }).auth;
    const listed = await listDevices(stateDir);
    expect(listed.paired).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(deviceToken);

    await expect(revokeDevice(stateDir, identity.deviceId)).resolves.toEqual({
      revoked: true,
      pendingRemoved: 0,
    });
    const refused = await connectWith(url, deviceConnect(identity, { sendToken: deviceToken }));
    expect(refused.response).toMatchObject({
      ok: false,
      error: { message: `unauthorized: gateway token mismatch ${TOKEN_HINT}` },
    });
    await expect(revokeDevice(stateDir, identity.deviceId)).resolves.toEqual({
      revoked: false,
      pendingRemoved: 0,
    });
  });

  it("reports a corrupt device file instead of overwriting it", async () => {
    const { url, stateDir } = await gateway();
    const { mkdir, writeFile } = await import("node:fs/promises");
    await mkdir(resolveDevicesDir(stateDir), { recursive: true });
    await writeFile(join(resolveDevicesDir(stateDir), "paired.json"), "{not json");
    const result = await connectWith(url, deviceConnect(generateDeviceIdentity(), {}));
    expect(result.response).toMatchObject({
      ok: false,
      error: { code: "UNAVAILABLE", message: expect.stringContaining("corrupt device store") },
    });
    await expect(result.closed).resolves.toMatchObject({ code: 1011 });
    expect(await readFile(join(resolveDevicesDir(stateDir), "paired.json"), "utf8")).toBe(
      "{not json",
    );
    await expect(listDevices(stateDir)).rejects.toMatchObject({ code: "STORE_CORRUPT" });
  });
});
