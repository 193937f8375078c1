import { copyFile, link, readdir, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { SessionEntry, SessionStore } from "@clawkeep/schema";
import { SessionsError } from "@clawkeep/schema";
import { fsyncDirectory } from "./atomic-write.ts";

const DAY_MS = 86_400_000;

export type SessionMaintenanceMode = "warn" | "enforce";

/** Entries not updated for this long are pruned in `enforce` mode: 30 days. */
export const DEFAULT_PRUNE_AFTER_MS = 30 * DAY_MS;
/** At most this many entries are kept in `enforce` mode: 500. */
export const DEFAULT_MAX_ENTRIES = 500;
/** A store file larger than this is rotated in `enforce` mode: 10 MiB. */
export const DEFAULT_ROTATE_BYTES = 10 * 1024 * 1024;
/** Rotated copies `sessions.json.bak.<epochMs>` kept beside the store: 3. */
export const ROTATED_BACKUPS_KEPT = 3;

/** `session.maintenance` from the config, parsed with every default applied. */
export interface SessionMaintenanceConfig {
  mode: SessionMaintenanceMode;
  pruneAfterMs: number;
  maxEntries: number;
  rotateBytes: number;
}

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: DAY_MS,
};

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
};

const DECIMAL = "(\\d+(?:\\.\\d+)?|\\.\\d+)";
const DURATION = new RegExp(`^${DECIMAL}\\s*(ms|s|m|h|d)?$`, "i");
const SIZE = new RegExp(`^${DECIMAL}\\s*(b|kb|k|mb|m|gb|g|tb|t)?$`, "i");

/**
 * A duration as openclaw's config writes it: a number (in `defaultUnit`) or a string of a
 * number (decimals allowed) and an optional unit `ms`, `s`, `m`, `h` or `d`. `undefined` when
 * the value is not one.
 */
export function parseDurationMs(
  value: unknown,
  defaultUnit: "ms" | "s" | "m" | "h" | "d" = "d",
): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0
      ? value * (DURATION_UNITS_MS[defaultUnit] as number)
      : undefined;
  }
  if (typeof value !== "string") return undefined;
  const match = DURATION.exec(value.trim());
  if (match === null) return undefined;
  const unit = (match[2] ?? defaultUnit).toLowerCase();
  return Number(match[1]) * (DURATION_UNITS_MS[unit] as number);
}

/**
 * A size as openclaw's config writes it: a number of bytes or a string of a number and an
 * optional binary unit `b`, `k`/`kb`, `m`/`mb`, `g`/`gb`, `t`/`tb` (any case, ×1024).
 * `undefined` when the value is not one.
 */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  }
  if (typeof value !== "string") return undefined;
  const match = SIZE.exec(value.trim());
  if (match === null) return undefined;
  const unit = (match[2] ?? "b").toLowerCase();
  return Math.floor(Number(match[1]) * (SIZE_UNITS[unit] as number));
}

/**
 * Parses `session.maintenance` as openclaw 2026.2 does: `mode` `warn` (default) or `enforce`;
 * `pruneAfter` a duration in days by default (invalid → 30 days), with the deprecated
 * `pruneDays` used only when `pruneAfter` is absent; `maxEntries` a number used as given
 * (default 500); `rotateBytes` a size (invalid → 10 MiB).
 */
export function parseMaintenanceConfig(config: unknown): SessionMaintenanceConfig {
  const raw =
    typeof config === "object" && config !== null ? (config as Record<string, unknown>) : {};
  const mode: SessionMaintenanceMode = raw.mode === "enforce" ? "enforce" : "warn";
  let pruneAfterMs: number | undefined;
  if (raw.pruneAfter !== undefined) pruneAfterMs = parseDurationMs(raw.pruneAfter, "d");
  else if (raw.pruneDays !== undefined) pruneAfterMs = parseDurationMs(raw.pruneDays, "d");
  const maxEntries =
    typeof raw.maxEntries === "number" && Number.isFinite(raw.maxEntries)
      ? raw.maxEntries
      : DEFAULT_MAX_ENTRIES;
  return {
    mode,
    pruneAfterMs: pruneAfterMs ?? DEFAULT_PRUNE_AFTER_MS,
    maxEntries,
    rotateBytes: parseByteSize(raw.rotateBytes) ?? DEFAULT_ROTATE_BYTES,
  };
}

/** An entry removed by maintenance, handed to `onRemoved` (to archive its transcript). */
export interface RemovedSessionEntry {
  key: string;
  entry: SessionEntry;
  reason: "stale" | "capped";
}

/** What `warn` mode reports when the active session would be removed in `enforce` mode. */
export interface SessionMaintenanceWarning {
  activeSessionKey: string;
  activeUpdatedAt: number | undefined;
  totalEntries: number;
  pruneAfterMs: number;
  maxEntries: number;
  wouldPrune: boolean;
  wouldCap: boolean;
}

/**
 * Maintenance policy for a write. session-utils reads it from the config
 * ({@link parseMaintenanceConfig}) and adds the keys that must survive.
 */
export interface SessionMaintenancePolicy {
  /**
   * `warn` removes nothing and reports through `onWarn` when the active session would be
   * removed; `enforce` prunes, caps and rotates. `warn` by default because clawkeep may share a
   * store with a running openclaw and must not prune it unasked.
   * @default "warn"
   */
  mode?: SessionMaintenanceMode;
  /** @default 2592000000 (30 days) */
  pruneAfterMs?: number;
  /** @default 500 */
  maxEntries?: number;
  /**
   * Rotate the file first when it is larger than this. The rotated copy is a hard link (a copy
   * where links are not supported), so the store is never missing.
   * @default 10485760 (10 MiB)
   */
  rotateBytes?: number;
  /** Keys never removed, such as the agent's main key. The active key is always protected. */
  protectedKeys?: readonly string[];
  /** The session being written for; never removed, and the subject of `onWarn`. */
  activeSessionKey?: string;
  /**
   * Called once the removal is on disk and the lock released, with every entry removed in
   * `enforce` mode (the CLI and gateway archive their transcripts here). Its error rejects the
   * update, whose write has already happened.
   */
  onRemoved?: (removed: RemovedSessionEntry[]) => void | Promise<void>;
  /**
   * Called in `warn` mode when the active session would be pruned or capped, once the update's
   * write is done (with the state it was made on). Its error rejects the update.
   */
  onWarn?: (warning: SessionMaintenanceWarning) => void;
  /** Clock for the prune cutoff and backup names. @default Date.now */
  now?: () => number;
}

/** Read access to a store without copying entries, and removal. */
export interface MaintenanceView {
  keys(): string[];
  get(key: string): unknown;
  remove(key: string): void;
}

function plainStoreView(store: SessionStore): MaintenanceView {
  return {
    keys: () => Object.keys(store),
    get: (key) => store[key],
    remove: (key) => {
      delete store[key];
    },
  };
}

function updatedAtOf(entry: unknown): number | undefined {
  const value = (entry as { updatedAt?: unknown } | null | undefined)?.updatedAt;
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Keys whose `updatedAt` is older than the cutoff; entries without `updatedAt` are kept. */
export function selectStaleKeys(
  view: MaintenanceView,
  cutoff: number,
  protectedKeys: ReadonlySet<string>,
): string[] {
  return view.keys().filter((key) => {
    if (protectedKeys.has(key)) return false;
    const updatedAt = updatedAtOf(view.get(key));
    return updatedAt !== undefined && updatedAt < cutoff;
  });
}

/**
 * Keys outside the `maxEntries` newest by `updatedAt` (entries without one count as oldest).
 * Protected keys are kept and take their slots first.
 */
export function selectCappedKeys(
  view: MaintenanceView,
  maxEntries: number,
  protectedKeys: ReadonlySet<string>,
): string[] {
  const keys = view.keys();
  if (keys.length <= maxEntries) return [];
  const candidates = keys.filter((key) => !protectedKeys.has(key));
  const slots = Math.max(Math.floor(maxEntries) - (keys.length - candidates.length), 0);
  const ranked = candidates
    .map((key) => ({ key, updatedAt: updatedAtOf(view.get(key)) ?? Number.NEGATIVE_INFINITY }))
    .sort((left, right) => right.updatedAt - left.updatedAt);
  return ranked.slice(slots).map((item) => item.key);
}

/**
 * Whether `key` falls outside the `maxEntries` newest entries, as {@link selectCappedKeys} would
 * rank it, in one pass instead of a sort (warn mode checks this on every write).
 */
function isOutsideNewest(view: MaintenanceView, key: string, maxEntries: number): boolean {
  const keys = view.keys();
  if (keys.length <= maxEntries) return false;
  const own = updatedAtOf(view.get(key)) ?? Number.NEGATIVE_INFINITY;
  let ahead = 0;
  for (const other of keys) {
    if (other === key) break;
    if ((updatedAtOf(view.get(other)) ?? Number.NEGATIVE_INFINITY) >= own) ahead += 1;
  }
  for (let index = keys.indexOf(key) + 1; index < keys.length; index += 1) {
    if ((updatedAtOf(view.get(keys[index] as string)) ?? Number.NEGATIVE_INFINITY) > own)
      ahead += 1;
  }
  return ahead >= Math.max(Math.floor(maxEntries), 0);
}

export interface PruneStaleEntriesOptions {
  /** @default 2592000000 (30 days) */
  pruneAfterMs?: number;
  /** Keys never removed. */
  protectedKeys?: readonly string[];
  /** @default Date.now */
  now?: () => number;
}

/**
 * Deletes from `store` (a plain, mutable object or a mutator's draft) the entries whose
 * `updatedAt` is older than `pruneAfterMs`; entries without `updatedAt` are kept. Returns how
 * many were removed.
 */
export function pruneStaleEntries(
  store: SessionStore,
  options: PruneStaleEntriesOptions = {},
): number {
  const view = plainStoreView(store);
  const now = (options.now ?? Date.now)();
  const cutoff = now - (options.pruneAfterMs ?? DEFAULT_PRUNE_AFTER_MS);
  const stale = selectStaleKeys(view, cutoff, new Set(options.protectedKeys ?? []));
  for (const key of stale) view.remove(key);
  return stale.length;
}

export interface CapEntryCountOptions {
  /** @default 500 */
  maxEntries?: number;
  /** Keys never removed; they count toward `maxEntries`. */
  protectedKeys?: readonly string[];
}

/**
 * Deletes from `store` all but the `maxEntries` newest entries by `updatedAt` (entries without
 * one go first). Returns how many were removed.
 */
export function capEntryCount(store: SessionStore, options: CapEntryCountOptions = {}): number {
  const view = plainStoreView(store);
  const capped = selectCappedKeys(
    view,
    options.maxEntries ?? DEFAULT_MAX_ENTRIES,
    new Set(options.protectedKeys ?? []),
  );
  for (const key of capped) view.remove(key);
  return capped.length;
}

export interface RotateSessionFileOptions {
  /** Rotate only when the file is larger than this. @default 10485760 (10 MiB) */
  rotateBytes?: number;
  /** Backups kept, newest first. @default 3 */
  keep?: number;
  /**
   * Leave the store in place and make the backup a hard link (a copy where links are not
   * possible), for a caller that replaces the store atomically right after. With `false` the
   * store is renamed away, as openclaw does.
   * @default false
   */
  keepOriginal?: boolean;
  /** Clock for the backup suffix. @default Date.now */
  now?: () => number;
}

function ioError(action: string, path: string, error: unknown): SessionsError {
  return new SessionsError("STORE_IO", `cannot ${action} ${path}: ${(error as Error).message}`, {
    details: { path, errno: (error as NodeJS.ErrnoException).code },
    cause: error,
  });
}

/**
 * When the store file is larger than `rotateBytes`, moves it to `<store>.bak.<epochMs>` and
 * deletes all but the `keep` newest backups. Returns whether it rotated; a missing file is not
 * rotated. Call it while holding the store lock.
 */
export async function rotateSessionFile(
  storePath: string,
  options: RotateSessionFileOptions = {},
): Promise<boolean> {
  let size: number;
  try {
    size = (await stat(storePath)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw ioError("read", storePath, error);
  }
  if (size <= (options.rotateBytes ?? DEFAULT_ROTATE_BYTES)) return false;

  const now = options.now ?? Date.now;
  const backupPath = `${storePath}.bak.${now()}`;
  try {
    if (options.keepOriginal === true) await linkOrCopy(storePath, backupPath);
    else await rename(storePath, backupPath);
  } catch (error) {
    throw ioError("rotate", storePath, error);
  }
  await pruneBackups(storePath, options.keep ?? ROTATED_BACKUPS_KEPT);
  await fsyncDirectory(dirname(storePath));
  return true;
}

async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // File systems without hard links (FAT, some network mounts) say so with one of these.
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV" && code !== "EMLINK") {
      throw error;
    }
    await copyFile(source, target);
  }
}

async function pruneBackups(storePath: string, keep: number): Promise<void> {
  const dir = dirname(storePath);
  const prefix = `${basename(storePath)}.bak.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw ioError("list", dir, error);
  }
  const backups = names
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .sort()
    .reverse();
  for (const name of backups.slice(Math.max(keep, 0))) {
    try {
      await unlink(join(dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        throw ioError("remove", join(dir, name), error);
      }
    }
  }
}

/** What maintenance decided for one write. */
export interface MaintenanceOutcome {
  removed: RemovedSessionEntry[];
  warning: SessionMaintenanceWarning | undefined;
}

/**
 * Applies a policy to a view of the store being written: in `enforce` mode removes stale then
 * capped entries (never the protected or active keys); in `warn` mode only computes the warning
 * for the active key. Rotation is the writer's job (it needs the file).
 */
export function applyMaintenance(
  view: MaintenanceView,
  policy: SessionMaintenancePolicy,
): MaintenanceOutcome {
  const now = (policy.now ?? Date.now)();
  const pruneAfterMs = policy.pruneAfterMs ?? DEFAULT_PRUNE_AFTER_MS;
  const maxEntries = policy.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const protectedKeys = new Set(policy.protectedKeys ?? []);
  const active = policy.activeSessionKey;
  if (active !== undefined) protectedKeys.add(active);
  const cutoff = now - pruneAfterMs;

  if ((policy.mode ?? "warn") === "warn") {
    if (active === undefined) return { removed: [], warning: undefined };
    const activeEntry = view.get(active);
    if (activeEntry === undefined) return { removed: [], warning: undefined };
    const activeUpdatedAt = updatedAtOf(activeEntry);
    const wouldPrune = activeUpdatedAt !== undefined && activeUpdatedAt < cutoff;
    const wouldCap = isOutsideNewest(view, active, maxEntries);
    if (!wouldPrune && !wouldCap) return { removed: [], warning: undefined };
    return {
      removed: [],
      warning: {
        activeSessionKey: active,
        activeUpdatedAt,
        totalEntries: view.keys().length,
        pruneAfterMs,
        maxEntries,
        wouldPrune,
        wouldCap,
      },
    };
  }

  const removed: RemovedSessionEntry[] = [];
  for (const key of selectStaleKeys(view, cutoff, protectedKeys)) {
    removed.push({ key, entry: view.get(key) as SessionEntry, reason: "stale" });
    view.remove(key);
  }
  for (const key of selectCappedKeys(view, maxEntries, protectedKeys)) {
    removed.push({ key, entry: view.get(key) as SessionEntry, reason: "capped" });
    view.remove(key);
  }
  return { removed, warning: undefined };
}
