import { randomUUID } from "node:crypto";
import { mkdir, readFile, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SessionsError } from "@clawkeep/schema";
import { writeFileAtomically } from "@clawkeep/store";
import { z } from "zod";
import { ensurePrivateDir } from "./private-file.ts";
import { generateSecret, secretsEqual } from "./secrets.ts";

/** A device token: what a paired device sends as `auth.token` instead of the shared token. */
export interface DeviceTokenRecord {
  token: string;
  role: string;
  scopes: string[];
  issuedAtMs: number;
}

/** A device allowed to connect, with the roles and scopes it was approved for. */
export interface PairedDeviceRecord {
  deviceId: string;
  publicKey: string;
  roles: string[];
  scopes: string[];
  clientId: string;
  clientMode: string;
  platform?: string;
  displayName?: string;
  pairedAtMs: number;
  /** `loopback`: approved automatically for a local connect; `operator`: by `approveDevice`. */
  approvedBy: "loopback" | "operator";
  /** Device tokens by role. */
  tokens: Record<string, DeviceTokenRecord>;
}

/** A remote device waiting for an operator's approval. */
export interface PendingPairingRecord {
  requestId: string;
  deviceId: string;
  publicKey: string;
  role: string;
  scopes: string[];
  clientId: string;
  clientMode: string;
  platform?: string;
  displayName?: string;
  remoteAddress?: string;
  requestedAtMs: number;
}

/** A paired device as listed to operators: token values are never shown. */
export interface PairedDeviceSummary extends Omit<PairedDeviceRecord, "tokens"> {
  tokens: Array<{ role: string; scopes: string[]; issuedAtMs: number }>;
}

export interface DeviceList {
  paired: PairedDeviceSummary[];
  pending: PendingPairingRecord[];
}

/** Who asks to be paired: the verified device and what it asked for in `connect`. */
export interface DevicePairingRequest {
  deviceId: string;
  publicKey: string;
  role: string;
  scopes: readonly string[];
  clientId: string;
  clientMode: string;
  platform?: string;
  displayName?: string;
  remoteAddress?: string;
}

export type PairingOutcome =
  | { status: "paired"; autoApproved: boolean }
  | { status: "pending"; requestId: string };

export interface DeviceStoreOptions {
  /** Clock for record times. @default Date.now */
  now?: () => number;
  /**
   * How long a remote device's pairing request waits for approval; the device simply asks again
   * after that.
   * @default 3600000 (1 hour)
   */
  pendingTtlMs?: number;
  /** Most pending requests kept; the oldest are dropped first. @default 64 */
  maxPending?: number;
  /** How long to wait for another process holding the device files. @default 5000 */
  lockTimeoutMs?: number;
}

const TokenSchema = z.looseObject({
  token: z.string().min(1),
  role: z.string(),
  scopes: z.array(z.string()),
  issuedAtMs: z.number(),
});

const PairedDeviceSchema = z.looseObject({
  deviceId: z.string().min(1),
  publicKey: z.string().min(1),
  roles: z.array(z.string()),
  scopes: z.array(z.string()),
  clientId: z.string(),
  clientMode: z.string(),
  platform: z.string().optional(),
  displayName: z.string().optional(),
  pairedAtMs: z.number(),
  approvedBy: z.enum(["loopback", "operator"]),
  tokens: z.record(z.string(), TokenSchema),
});

const PendingSchema = z.looseObject({
  requestId: z.string().min(1),
  deviceId: z.string().min(1),
  publicKey: z.string().min(1),
  role: z.string(),
  scopes: z.array(z.string()),
  clientId: z.string(),
  clientMode: z.string(),
  platform: z.string().optional(),
  displayName: z.string().optional(),
  remoteAddress: z.string().optional(),
  requestedAtMs: z.number(),
});

const PairedFileSchema = z.looseObject({
  version: z.literal(1),
  devices: z.record(z.string(), PairedDeviceSchema),
});
const PendingFileSchema = z.looseObject({
  version: z.literal(1),
  requests: z.record(z.string(), PendingSchema),
});

interface DeviceFiles {
  devices: Record<string, PairedDeviceRecord>;
  requests: Record<string, PendingPairingRecord>;
}

const DEFAULT_PENDING_TTL_MS = 60 * 60 * 1000;
const DEFAULT_MAX_PENDING = 64;
const DEFAULT_LOCK_TIMEOUT_MS = 5000;
// Every holder finishes within milliseconds; a lock this old belongs to a process that died.
const LOCK_STALE_MS = 10_000;
const LOCK_RETRY_MS = 20;

/** `<stateDir>/clawkeep/devices`: paired devices, pending requests and device tokens. */
export function resolveDevicesDir(stateDir: string): string {
  return join(stateDir, "clawkeep", "devices");
}

function covers(granted: readonly string[], requested: readonly string[]): boolean {
  return requested.every((scope) => granted.includes(scope));
}

/** True when the device is paired for `role` with every scope in `scopes`. */
function pairedFor(
  device: PairedDeviceRecord | undefined,
  role: string,
  scopes: readonly string[],
): boolean {
  if (device === undefined) return false;
  return device.roles.includes(role) && covers(device.scopes, scopes);
}

function union(left: readonly string[], right: readonly string[]): string[] {
  return [...new Set([...left, ...right])];
}

async function readJsonFile<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new SessionsError("STORE_IO", `cannot read device store ${path}`, {
      details: { path },
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SessionsError("STORE_CORRUPT", `corrupt device store: ${path} is not valid JSON`, {
      details: { path },
      cause: error,
    });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new SessionsError(
      "STORE_CORRUPT",
      `corrupt device store: ${path} has an unexpected shape`,
      {
        details: { path },
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

async function readDeviceFiles(dir: string): Promise<DeviceFiles> {
  const paired = await readJsonFile(join(dir, "paired.json"), PairedFileSchema);
  const pending = await readJsonFile(join(dir, "pending.json"), PendingFileSchema);
  return {
    devices: (paired?.devices ?? {}) as Record<string, PairedDeviceRecord>,
    requests: (pending?.requests ?? {}) as Record<string, PendingPairingRecord>,
  };
}

interface RenderedDeviceFiles {
  paired: string;
  pending: string;
}

function renderDeviceFiles(files: DeviceFiles): RenderedDeviceFiles {
  return {
    paired: `${JSON.stringify({ version: 1, devices: files.devices }, null, 2)}\n`,
    pending: `${JSON.stringify({ version: 1, requests: files.requests }, null, 2)}\n`,
  };
}

// One chain per directory, so that the writers of one process wait for each other in order
// instead of spinning on the lock directory.
const chains = new Map<string, Promise<unknown>>();

async function acquireLock(lockPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(lockPath, { mode: 0o700 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    try {
      const stats = await stat(lockPath);
      if (Date.now() - stats.mtimeMs > LOCK_STALE_MS) {
        await rmdir(lockPath);
        continue;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    if (Date.now() >= deadline) {
      throw new SessionsError("STORE_LOCKED", `timeout acquiring device store lock: ${lockPath}`, {
        details: { path: lockPath },
      });
    }
    await sleep(LOCK_RETRY_MS);
  }
}

/**
 * Runs `mutate` on the device files under the device lock, and writes them when it changed
 * them. The lock is a directory (`devices.lock`), so a CLI approving a device and a running
 * gateway never write over each other.
 */
async function updateDeviceFiles<Result>(
  stateDir: string,
  lockTimeoutMs: number,
  mutate: (files: DeviceFiles) => Result,
): Promise<Result> {
  const dir = resolveDevicesDir(stateDir);
  const previous = chains.get(dir) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      await ensurePrivateDir(dir);
      const lockPath = join(dir, "devices.lock");
      await acquireLock(lockPath, lockTimeoutMs);
      try {
        const files = await readDeviceFiles(dir);
        const before = renderDeviceFiles(files);
        const result = mutate(files);
        const after = renderDeviceFiles(files);
        // Unchanged files are not rewritten: most connects of a paired device change nothing.
        if (after.paired !== before.paired) {
          await writeFileAtomically(join(dir, "paired.json"), after.paired);
        }
        if (after.pending !== before.pending) {
          await writeFileAtomically(join(dir, "pending.json"), after.pending);
        }
        return result;
      } finally {
        await rmdir(lockPath);
      }
    });
  chains.set(dir, run);
  try {
    return await run;
  } finally {
    if (chains.get(dir) === run) chains.delete(dir);
  }
}

function summarize(device: PairedDeviceRecord): PairedDeviceSummary {
  const { tokens, ...rest } = device;
  return {
    ...rest,
    tokens: Object.values(tokens).map(({ role, scopes, issuedAtMs }) => ({
      role,
      scopes,
      issuedAtMs,
    })),
  };
}

function dropExpired(files: DeviceFiles, now: number, ttlMs: number): void {
  for (const [id, request] of Object.entries(files.requests)) {
    if (now - request.requestedAtMs > ttlMs) delete files.requests[id];
  }
}

export interface ListDevicesOptions {
  /** @default Date.now */
  now?: () => number;
}

/**
 * Lists paired devices (without token values) and pending pairing requests that have not
 * expired, oldest first.
 */
export async function listDevices(
  stateDir: string,
  options: ListDevicesOptions = {},
): Promise<DeviceList> {
  const files = await readDeviceFiles(resolveDevicesDir(stateDir));
  dropExpired(files, (options.now ?? Date.now)(), DEFAULT_PENDING_TTL_MS);
  return {
    paired: Object.values(files.devices)
      .sort((left, right) => left.pairedAtMs - right.pairedAtMs)
      .map(summarize),
    pending: Object.values(files.requests).sort(
      (left, right) => left.requestedAtMs - right.requestedAtMs,
    ),
  };
}

export interface ApproveDeviceOptions {
  /** @default Date.now */
  now?: () => number;
}

/**
 * Approves a pending pairing request: the device becomes paired for the role and scopes it asked
 * for (added to any it already had) and may connect. Throws `INVALID_PARAMS` when no such
 * request is pending (or it expired: the device asks again on its next connect).
 */
export async function approveDevice(
  stateDir: string,
  requestId: string,
  options: ApproveDeviceOptions = {},
): Promise<PairedDeviceSummary> {
  const now = (options.now ?? Date.now)();
  return await updateDeviceFiles(stateDir, DEFAULT_LOCK_TIMEOUT_MS, (files) => {
    dropExpired(files, now, DEFAULT_PENDING_TTL_MS);
    const request = files.requests[requestId];
    if (request === undefined) {
      throw new SessionsError("INVALID_PARAMS", `no pending pairing request: ${requestId}`, {
        details: { requestId },
      });
    }
    delete files.requests[requestId];
    for (const [id, other] of Object.entries(files.requests)) {
      if (other.deviceId === request.deviceId) delete files.requests[id];
    }
    const existing = files.devices[request.deviceId];
    const device: PairedDeviceRecord = {
      ...pairingFields(request),
      roles: union(existing?.roles ?? [], [request.role]),
      scopes: union(existing?.scopes ?? [], request.scopes),
      pairedAtMs: existing?.pairedAtMs ?? now,
      approvedBy: "operator",
      tokens: existing?.tokens ?? {},
    };
    files.devices[request.deviceId] = device;
    return summarize(device);
  });
}

export interface RevokeDeviceResult {
  /** True when the device was paired (its tokens no longer work). */
  revoked: boolean;
  /** Pending requests of the device that were dropped. */
  pendingRemoved: number;
}

/**
 * Forgets a device: its pairing, its device tokens and its pending requests. A revoked device
 * must be paired again; connections it already has stay open until they close.
 */
export async function revokeDevice(
  stateDir: string,
  deviceId: string,
): Promise<RevokeDeviceResult> {
  return await updateDeviceFiles(stateDir, DEFAULT_LOCK_TIMEOUT_MS, (files) => {
    const revoked = files.devices[deviceId] !== undefined;
    delete files.devices[deviceId];
    let pendingRemoved = 0;
    for (const [id, request] of Object.entries(files.requests)) {
      if (request.deviceId === deviceId) {
        delete files.requests[id];
        pendingRemoved += 1;
      }
    }
    return { revoked, pendingRemoved };
  });
}

function pairingFields(request: DevicePairingRequest | PendingPairingRecord) {
  return {
    deviceId: request.deviceId,
    publicKey: request.publicKey,
    clientId: request.clientId,
    clientMode: request.clientMode,
    ...(request.platform === undefined ? {} : { platform: request.platform }),
    ...(request.displayName === undefined ? {} : { displayName: request.displayName }),
  };
}

/** The gateway's view of the device files. */
export interface DeviceStore {
  /**
   * True when `token` is the device token issued to `deviceId` for `role` and it covers
   * `scopes`.
   */
  verifyDeviceToken(
    deviceId: string,
    token: string,
    role: string,
    scopes: readonly string[],
  ): Promise<boolean>;
  /**
   * Makes sure the device is paired for the role and scopes it asks for. Local devices are
   * approved on the spot; remote ones get a pending request (one per device, reused while it
   * waits).
   */
  ensurePaired(request: DevicePairingRequest, isLoopback: boolean): Promise<PairingOutcome>;
  /**
   * Returns the device's token for `role`, issuing one when there is none or the existing one
   * does not cover `scopes`.
   */
  issueDeviceToken(
    deviceId: string,
    role: string,
    scopes: readonly string[],
  ): Promise<DeviceTokenRecord>;
}

/** Opens the device files under `<stateDir>/clawkeep/devices/`. Nothing is read until used. */
export function createDeviceStore(stateDir: string, options: DeviceStoreOptions = {}): DeviceStore {
  const now = options.now ?? Date.now;
  const pendingTtlMs = options.pendingTtlMs ?? DEFAULT_PENDING_TTL_MS;
  const maxPending = Math.max(1, options.maxPending ?? DEFAULT_MAX_PENDING);
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const dir = resolveDevicesDir(stateDir);

  return {
    async verifyDeviceToken(deviceId, token, role, scopes) {
      const files = await readDeviceFiles(dir);
      const record = files.devices[deviceId]?.tokens[role];
      if (record === undefined) return false;
      return secretsEqual(token, record.token) && covers(record.scopes, scopes);
    },

    async ensurePaired(request, isLoopback) {
      const files = await readDeviceFiles(dir);
      const known = files.devices[request.deviceId];
      if (pairedFor(known, request.role, request.scopes)) {
        return { status: "paired", autoApproved: false };
      }
      return await updateDeviceFiles(stateDir, lockTimeoutMs, (current): PairingOutcome => {
        const at = now();
        const existing = current.devices[request.deviceId];
        if (pairedFor(existing, request.role, request.scopes)) {
          return { status: "paired", autoApproved: false };
        }
        if (isLoopback) {
          current.devices[request.deviceId] = {
            ...pairingFields(request),
            roles: union(existing?.roles ?? [], [request.role]),
            scopes: union(existing?.scopes ?? [], request.scopes),
            pairedAtMs: existing?.pairedAtMs ?? at,
            approvedBy: existing?.approvedBy ?? "loopback",
            tokens: existing?.tokens ?? {},
          };
          return { status: "paired", autoApproved: true };
        }
        dropExpired(current, at, pendingTtlMs);
        const waiting = Object.values(current.requests).find(
          (candidate) =>
            candidate.deviceId === request.deviceId &&
            candidate.role === request.role &&
            covers(candidate.scopes, request.scopes) &&
            covers(request.scopes, candidate.scopes),
        );
        if (waiting !== undefined) return { status: "pending", requestId: waiting.requestId };
        const requestId = randomUUID();
        current.requests[requestId] = {
          requestId,
          ...pairingFields(request),
          role: request.role,
          scopes: [...request.scopes],
          ...(request.remoteAddress === undefined ? {} : { remoteAddress: request.remoteAddress }),
          requestedAtMs: at,
        };
        const byAge = Object.values(current.requests).sort(
          (left, right) => left.requestedAtMs - right.requestedAtMs,
        );
        for (const stale of byAge.slice(0, Math.max(0, byAge.length - maxPending))) {
          delete current.requests[stale.requestId];
        }
        return { status: "pending", requestId };
      });
    },

    async issueDeviceToken(deviceId, role, scopes) {
      const files = await readDeviceFiles(dir);
      const existing = files.devices[deviceId]?.tokens[role];
      if (existing !== undefined && covers(existing.scopes, scopes)) return existing;
      return await updateDeviceFiles(stateDir, lockTimeoutMs, (current) => {
        const device = current.devices[deviceId];
        if (device === undefined) {
          throw new SessionsError(
            "UNAVAILABLE",
            `device was unpaired while connecting: ${deviceId}`,
            {
              details: { deviceId },
            },
          );
        }
        const previous = device.tokens[role];
        if (previous !== undefined && covers(previous.scopes, scopes)) return previous;
        const record: DeviceTokenRecord = {
          token: generateSecret(16),
          role,
          scopes: union(previous?.scopes ?? [], scopes),
          issuedAtMs: now(),
        };
        device.tokens = { ...device.tokens, [role]: record };
        return record;
      });
    },
  };
}
