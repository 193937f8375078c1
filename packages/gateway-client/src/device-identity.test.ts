import { createHash, createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  buildDeviceAuthPayload,
  deriveDeviceId,
  deviceIdentityFromPrivateKey,
  generateDeviceIdentity,
  signDeviceAuthPayload,
} from "./device-identity.ts";

function verifyWithRawKey(publicKey: string, payload: string, signature: string): boolean {
  const key = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: publicKey },
    format: "jwk",
  });
  return verify(null, Buffer.from(payload, "utf8"), key, Buffer.from(signature, "base64url"));
}

describe("device identity", () => {
  it("uses the raw 32-byte key, base64url without padding, and its sha256 hex as the id", () => {
    const identity = generateDeviceIdentity();
    const raw = Buffer.from(identity.publicKey, "base64url");
    expect(raw).toHaveLength(32);
    expect(identity.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(identity.deviceId).toBe(createHash("sha256").update(raw).digest("hex"));
    expect(deriveDeviceId(raw)).toBe(identity.deviceId);
  });

  it("rebuilds the same identity from its private key", () => {
    const identity = generateDeviceIdentity();
    expect(deviceIdentityFromPrivateKey(identity.privateKeyPem)).toEqual(identity);
  });

  it("builds the v2 payload with a nonce and the v1 payload without", () => {
    const fields = {
      deviceId: "dev",
      clientId: "cli",
      clientMode: "cli",
      role: "operator",
      scopes: ["operator.admin", "operator.pairing"],
      signedAtMs: 1795502420398,
      token: "tok",
    };
    expect(buildDeviceAuthPayload({ ...fields, nonce: "n-1" })).toBe(
      "v2|dev|cli|cli|operator|operator.admin,operator.pairing|1795502420398|tok|n-1",
    );
    expect(buildDeviceAuthPayload(fields)).toBe(
      "v1|dev|cli|cli|operator|operator.admin,operator.pairing|1795502420398|tok",
    );
    expect(buildDeviceAuthPayload({ ...fields, token: undefined, scopes: [] })).toBe(
      "v1|dev|cli|cli|operator||1795502420398|",
    );
  });

  it("signs with ed25519, base64url without padding", () => {
    const identity = generateDeviceIdentity();
    const signature = signDeviceAuthPayload(identity, "v2|payload");
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(verifyWithRawKey(identity.publicKey, "v2|payload", signature)).toBe(true);
    expect(verifyWithRawKey(identity.publicKey, "v2|other", signature)).toBe(false);
  });
});
