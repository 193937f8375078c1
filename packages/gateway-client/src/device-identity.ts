import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from "node:crypto";

/**
 * A device's ed25519 identity. Plain data, so a caller can persist it as JSON (keep the file
 * private: the key is what proves the device).
 */
export interface DeviceIdentity {
  /** sha256 hex of the raw 32-byte public key. */
  deviceId: string;
  /** The raw 32-byte public key, base64url without padding. */
  publicKey: string;
  /** The private key, PKCS#8 PEM. */
  privateKeyPem: string;
}

/** The fields a device signs in `connect`, in the order they are joined. */
export interface DeviceAuthFields {
  deviceId: string;
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  signedAtMs: number;
  /** The `auth.token` sent in the same `connect` (shared or device token), or none. */
  token?: string | undefined;
  /** The challenge nonce; without one the payload is the older v1 form. */
  nonce?: string | undefined;
}

/** sha256 hex of a raw public key: the device id the gateway expects for it. */
export function deriveDeviceId(publicKeyRaw: Uint8Array): string {
  return createHash("sha256").update(publicKeyRaw).digest("hex");
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") {
    throw new Error("device identity key is not an ed25519 key");
  }
  return Buffer.from(jwk.x, "base64url");
}

function identityFromPrivateKey(privateKey: KeyObject): DeviceIdentity {
  const publicKeyRaw = rawPublicKey(createPublicKey(privateKey));
  return {
    deviceId: deriveDeviceId(publicKeyRaw),
    publicKey: publicKeyRaw.toString("base64url"),
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

/** Creates a new ed25519 device identity. */
export function generateDeviceIdentity(): DeviceIdentity {
  const { privateKey } = generateKeyPairSync("ed25519");
  return identityFromPrivateKey(privateKey);
}

/**
 * Rebuilds an identity from its private key, recomputing the public key and device id, so a
 * stored identity whose id or key was edited cannot be used by mistake.
 */
export function deviceIdentityFromPrivateKey(privateKeyPem: string): DeviceIdentity {
  return identityFromPrivateKey(createPrivateKey(privateKeyPem));
}

/**
 * The string a device signs:
 * `v2|deviceId|clientId|clientMode|role|scope,scope|signedAtMs|token|nonce`, or the v1 form
 * (no trailing nonce) when there is no nonce.
 */
export function buildDeviceAuthPayload(fields: DeviceAuthFields): string {
  const parts = [
    fields.nonce === undefined ? "v1" : "v2",
    fields.deviceId,
    fields.clientId,
    fields.clientMode,
    fields.role,
    fields.scopes.join(","),
    String(fields.signedAtMs),
    fields.token ?? "",
  ];
  if (fields.nonce !== undefined) parts.push(fields.nonce);
  return parts.join("|");
}

/** Signs `payload` with the identity's key; the signature is base64url without padding. */
export function signDeviceAuthPayload(identity: DeviceIdentity, payload: string): string {
  const privateKey = createPrivateKey(identity.privateKeyPem);
  return sign(null, Buffer.from(payload, "utf8"), privateKey).toString("base64url");
}
