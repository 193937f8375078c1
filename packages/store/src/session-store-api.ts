import type { SessionEntry } from "@clawkeep/schema";
import { mergeSessionEntry } from "@clawkeep/schema";
import type { FileLockOptions, FileLockOwner, HeldFileLock } from "./file-lock.ts";
import { readFileLockOwner } from "./file-lock.ts";
import type { SessionMaintenancePolicy } from "./maintenance.ts";
import type { SessionStoreMutator, SessionStoreSnapshot } from "./session-store-backend.ts";
import { getFileStoreCore, invalidateFileStoreCaches } from "./store-file.ts";
import type { QueuedUpdateOptions } from "./update-queue.ts";

export interface LoadSessionStoreOptions {
  /**
   * Read the file even when the cache is valid, and leave the cache as it was. The result is
   * still the shared snapshot when the bytes on disk are the ones last seen.
   * @default false
   */
  skipCache?: boolean;
  /**
   * Cache lifetime for this read. @default `CLAWKEEP_SESSION_CACHE_TTL_MS`, else
   * `OPENCLAW_SESSION_CACHE_TTL_MS`, else 45000
   */
  cacheTtlMs?: number;
}

/** Options of the functions that write a store. */
export interface SessionStoreWriteOptions extends FileLockOptions {
  /** Maintenance to apply to this write. @default none */
  maintenance?: SessionMaintenancePolicy;
}

function queueOptions(options: SessionStoreWriteOptions): QueuedUpdateOptions {
  return {
    lock: {
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(options.staleMs !== undefined && { staleMs: options.staleMs }),
    },
    maintenance: options.maintenance,
  };
}

/**
 * Loads `sessions.json`: from the per-process cache while its TTL runs and the file's mtime and
 * size are unchanged, else from disk. A missing file is an empty store.
 *
 * The result is the shared snapshot, deeply frozen: assigning to it or to anything inside it
 * throws a `TypeError` in strict-mode code (ES modules are strict), so no caller can change what
 * the next caller sees, and no read pays for a copy. To change the store use
 * `updateSessionStore`; for a copy whose keys can be added and removed, spread it
 * (`{ ...store }`; its entries stay frozen).
 *
 * Throws `STORE_CORRUPT` (path, line and column) when the file is not a JSON object.
 */
export async function loadSessionStore(
  storePath: string,
  options: LoadSessionStoreOptions = {},
): Promise<SessionStoreSnapshot> {
  const core = getFileStoreCore(storePath);
  return (
    await core.load({ skipCache: options.skipCache, cacheTtlMs: options.cacheTtlMs })
  ).snapshot();
}

/**
 * Replaces the whole store with `store` under the lock: keys missing from it are removed, the
 * file follows its key order, changed entries get their delivery fields normalised. Entries that
 * are the objects loaded (or equal to them) are written back byte for byte, and nothing is
 * written when nothing changed. Prefer `updateSessionStore`, which cannot lose a concurrent
 * update made after your load.
 */
export async function saveSessionStore(
  storePath: string,
  store: SessionStoreSnapshot,
  options: SessionStoreWriteOptions = {},
): Promise<void> {
  await getFileStoreCore(storePath).queue.replace(store, queueOptions(options));
}

/**
 * Read-modify-write under the lock: runs `mutator` on a draft (see `SessionStoreMutator`) of the
 * store as it is in the file, writes atomically and durably only if the bytes changed, and
 * resolves to the mutator's result. Concurrent calls in this process share one lock and one
 * write; a mutator that throws rejects its own call only.
 *
 * Under the lock the file is compared with the bytes this process last read or wrote. That
 * check overlaps the work: the mutator runs on the cached state and the result is written to a
 * temp file meanwhile, and the rename waits for the check. When the file has changed (another
 * process wrote it), the temp file is dropped and the mutator runs again on the fresh state, so
 * **a mutator may run more than once**: it must act only on the draft it is given and return its
 * result, which is taken from its last run.
 */
export async function updateSessionStore<T>(
  storePath: string,
  mutator: SessionStoreMutator<T>,
  options: SessionStoreWriteOptions = {},
): Promise<T> {
  return await getFileStoreCore(storePath).queue.update(mutator, queueOptions(options));
}

export interface UpdateSessionStoreEntryParams extends SessionStoreWriteOptions {
  storePath: string;
  sessionKey: string;
  /**
   * Receives the current (frozen) entry, read fresh under the lock, and returns a patch to merge
   * with `mergeSessionEntry`, or `null` to leave the entry as it is. Like a mutator of
   * `updateSessionStore`, it may run twice (first on the cached entry) when another process
   * changed the store; only the run on the fresh entry counts.
   */
  update: (
    entry: SessionEntry,
  ) => Partial<SessionEntry> | null | Promise<Partial<SessionEntry> | null>;
}

/**
 * Patches one entry under the lock, reading it fresh there (never from the cache). Resolves to
 * the entry as committed, to the unchanged entry when `update` returned `null`, or to `null`
 * when the key does not exist. The key is protected from maintenance in this write.
 */
export async function updateSessionStoreEntry(
  params: UpdateSessionStoreEntryParams,
): Promise<SessionEntry | null> {
  const options = queueOptions(params);
  if (options.maintenance !== undefined) {
    options.maintenance = { activeSessionKey: params.sessionKey, ...options.maintenance };
  }
  return await getFileStoreCore(params.storePath).queue.updateEntry(
    params.sessionKey,
    params.update,
    (existing, patch) => mergeSessionEntry(existing, patch),
    options,
  );
}

/**
 * Runs `fn` while holding the store lock `<storePath>.lock`, after this process's queued
 * updates of the store and before later ones. `fn` gets the held lock, whose `signal` aborts if
 * the lock is lost. Calling this store's update functions from inside `fn` would wait for
 * itself, and fails at once instead.
 */
export async function withSessionStoreLock<T>(
  storePath: string,
  fn: (lock: HeldFileLock) => T | Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  return await getFileStoreCore(storePath).queue.exclusive(fn, queueOptions(options).lock);
}

/** Drops the cached snapshot of `storePath`, or of every store when no path is given. */
export function invalidateSessionStoreCache(storePath?: string): void {
  invalidateFileStoreCaches(storePath);
}

/**
 * The `updatedAt` of one entry, through the cache; `undefined` when the entry, the file or a
 * readable store is missing. Never throws, as in openclaw.
 */
export async function readSessionUpdatedAt(params: {
  storePath: string;
  sessionKey: string;
}): Promise<number | undefined> {
  try {
    const store = await loadSessionStore(params.storePath);
    if (!Object.hasOwn(store, params.sessionKey)) return undefined;
    const updatedAt = store[params.sessionKey]?.updatedAt;
    return typeof updatedAt === "number" ? updatedAt : undefined;
  } catch {
    // The contract is "never throws": an unreadable store has no updatedAt to report.
    return undefined;
  }
}

/** Who holds `<storePath>.lock`, for diagnostics; `undefined` when it is free. */
export async function readSessionStoreLockOwner(
  storePath: string,
): Promise<FileLockOwner | undefined> {
  return await readFileLockOwner(storePath);
}
