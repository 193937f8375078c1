import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";

/** The `device` block of a `connect` request. */
export interface DeviceProof {
  id: string;
  publicKey: string;
  signature: string;
  signedAt: number;
  nonce?: string | undefined;
}

export interface VerifyDeviceProofOptions {
  /** The nonce this connection's `connect.challenge` carried. */
  challengeNonce: string;
  /** Local clients may sign without a nonce (the v1 payload). */
  isLoopback: boolean;
  /** The server clock, in ms. */
  now: number;
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  /** `auth.token` as sent in the same connect. */
  token: string | undefined;
  /** Largest accepted distance between `signedAt` and `now`. @default 600000 (10 minutes) */
  maxSkewMs?: number;
}

export type DeviceProofResult = { ok: true } | { ok: false; message: string };

const DEFAULT_MAX_SKEW_MS = 10 * 60 * 1000;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The signed string: v2 with the nonce appended, v1 without a nonce. */
function devicePayload(device: DeviceProof, options: VerifyDeviceProofOptions): string {
  const fields = [
    device.id,
    options.clientId,
    options.clientMode,
    options.role,
    options.scopes.join(","),
    String(device.signedAt),
    options.token ?? "",
  ];
  return device.nonce === undefined
    ? ["v1", ...fields].join("|")
    : ["v2", ...fields, device.nonce].join("|");
}

function importPublicKey(raw: Buffer): KeyObject | undefined {
  if (raw.length !== 32) return undefined;
  try {
    return createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
      format: "jwk",
    });
  } catch {
    return undefined;
  }
}

/**
 * Checks a device's proof of identity as the gateway protocol defines it. The failure messages
 * are the wire texts: `device identity mismatch` (the id is not the sha256 of the key),
 * `device signature expired` (`signedAt` too far from now), `device nonce required` (a remote
 * client without a nonce), `device nonce mismatch`, `device public key invalid`,
 * `device signature invalid`.
 */
export function verifyDeviceProof(
  device: DeviceProof,
  options: VerifyDeviceProofOptions,
): DeviceProofResult {
  const keyBytes = BASE64URL.test(device.publicKey)
    ? Buffer.from(device.publicKey, "base64url")
    : undefined;
  const derivedId =
    keyBytes === undefined ? undefined : createHash("sha256").update(keyBytes).digest("hex");
  if (derivedId === undefined || derivedId !== device.id) {
    return { ok: false, message: "device identity mismatch" };
  }
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (Math.abs(options.now - device.signedAt) > maxSkewMs) {
    return { ok: false, message: "device signature expired" };
  }
  if (device.nonce === undefined) {
    if (!options.isLoopback) return { ok: false, message: "device nonce required" };
  } else if (device.nonce !== options.challengeNonce) {
    return { ok: false, message: "device nonce mismatch" };
  }
  const publicKey = keyBytes === undefined ? undefined : importPublicKey(keyBytes);
  if (publicKey === undefined) return { ok: false, message: "device public key invalid" };
  const signature = BASE64URL.test(device.signature)
    ? Buffer.from(device.signature, "base64url")
    : undefined;
  const payload = Buffer.from(devicePayload(device, options), "utf8");
  if (signature?.length !== 64 || !verify(null, payload, publicKey, signature)) {
    return { ok: false, message: "device signature invalid" };
  }
  return { ok: true };
}
