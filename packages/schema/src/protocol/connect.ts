import { z } from "zod";
import { StateVersionSchema } from "./frames.ts";
import { integer, literalUnion, nonEmptyString } from "./primitives.ts";

/** The `client.id` values a v3 gateway accepts in `connect`. */
export const GATEWAY_CLIENT_IDS = [
  "webchat-ui",
  "openclaw-control-ui",
  "webchat",
  "cli",
  "gateway-client",
  "openclaw-macos",
  "openclaw-ios",
  "openclaw-android",
  "node-host",
  "test",
  "fingerprint",
  "openclaw-probe",
] as const;
export type GatewayClientId = (typeof GATEWAY_CLIENT_IDS)[number];

/** The `client.mode` values a v3 gateway accepts (openclaw's docs show `operator`, which fails). */
export const GATEWAY_CLIENT_MODES = [
  "webchat",
  "cli",
  "ui",
  "backend",
  "node",
  "probe",
  "test",
] as const;
export type GatewayClientMode = (typeof GATEWAY_CLIENT_MODES)[number];

/** The roles a connection may claim; `operator` when none is given. */
export const GATEWAY_ROLES = ["operator", "node"] as const;
export type GatewayRole = (typeof GATEWAY_ROLES)[number];

/** Payload of the `connect.challenge` event the gateway sends as soon as a socket opens. */
export const ConnectChallengeSchema = z.strictObject({
  nonce: nonEmptyString(),
  ts: integer(0),
});
export type ConnectChallenge = z.infer<typeof ConnectChallengeSchema>;

/**
 * Params of `connect`, the first request on every connection. Strict: an unknown key fails the
 * handshake. The protocol range is checked by the gateway, not here (`protocol mismatch`).
 */
export const ConnectParamsSchema = z.strictObject({
  minProtocol: integer(1),
  maxProtocol: integer(1),
  client: z.strictObject({
    id: literalUnion(GATEWAY_CLIENT_IDS),
    displayName: nonEmptyString().optional(),
    version: nonEmptyString(),
    platform: nonEmptyString(),
    deviceFamily: nonEmptyString().optional(),
    modelIdentifier: nonEmptyString().optional(),
    mode: literalUnion(GATEWAY_CLIENT_MODES),
    instanceId: nonEmptyString().optional(),
  }),
  caps: z.array(nonEmptyString()).optional(),
  commands: z.array(nonEmptyString()).optional(),
  permissions: z.record(nonEmptyString(), z.boolean()).optional(),
  pathEnv: z.string().optional(),
  /** Any non-empty string passes the schema; the gateway rejects roles outside {@link GATEWAY_ROLES}. */
  role: nonEmptyString().optional(),
  scopes: z.array(nonEmptyString()).optional(),
  device: z
    .strictObject({
      /** sha256 hex of the raw public key. */
      id: nonEmptyString(),
      /** Raw 32-byte ed25519 key, base64url without padding. */
      publicKey: nonEmptyString(),
      signature: nonEmptyString(),
      signedAt: integer(0),
      /** The challenge nonce; optional for loopback clients. */
      nonce: nonEmptyString().optional(),
    })
    .optional(),
  auth: z
    .strictObject({
      token: z.string().optional(),
      password: z.string().optional(),
    })
    .optional(),
  locale: z.string().optional(),
  userAgent: z.string().optional(),
});
export type ConnectParams = z.infer<typeof ConnectParamsSchema>;

/** The session settings a client needs to build keys, sent in the hello snapshot. */
export const SessionDefaultsSchema = z.looseObject({
  defaultAgentId: nonEmptyString(),
  mainKey: nonEmptyString(),
  mainSessionKey: nonEmptyString(),
  scope: z.string().optional(),
});
export type SessionDefaults = z.infer<typeof SessionDefaultsSchema>;

/** The gateway's state at connect time. Loose: a newer gateway may add to it. */
export const SnapshotSchema = z.looseObject({
  presence: z.array(z.looseObject({})),
  health: z.unknown(),
  stateVersion: StateVersionSchema,
  uptimeMs: integer(0),
  configPath: z.string().optional(),
  stateDir: z.string().optional(),
  sessionDefaults: SessionDefaultsSchema.optional(),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** The payload of a successful `connect` response. */
export const HelloOkSchema = z.strictObject({
  type: z.literal("hello-ok"),
  /** The negotiated protocol version. */
  protocol: integer(1),
  server: z.strictObject({
    version: nonEmptyString(),
    commit: nonEmptyString().optional(),
    host: nonEmptyString().optional(),
    connId: nonEmptyString(),
  }),
  features: z.strictObject({
    methods: z.array(nonEmptyString()),
    events: z.array(nonEmptyString()),
  }),
  snapshot: SnapshotSchema,
  canvasHostUrl: nonEmptyString().optional(),
  /** Present when the client sent a device identity; absent for token-only clients. */
  auth: z
    .strictObject({
      deviceToken: nonEmptyString().optional(),
      role: nonEmptyString(),
      scopes: z.array(nonEmptyString()),
      issuedAtMs: integer(0).optional(),
    })
    .optional(),
  policy: z.strictObject({
    maxPayload: integer(1),
    maxBufferedBytes: integer(1),
    tickIntervalMs: integer(1),
  }),
});
export type HelloOk = z.infer<typeof HelloOkSchema>;
