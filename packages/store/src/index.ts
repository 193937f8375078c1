export {
  createTempFilePath,
  fsyncDirectory,
  removeOrphanedTempFiles,
  type WriteFileAtomicallyOptions,
  type WrittenFileStats,
  writeFileAtomically,
} from "./atomic-write.ts";
export { DEFAULT_SESSION_CACHE_TTL_MS, resolveSessionCacheTtlMs } from "./cache-ttl.ts";
export { createFileExclusively, pathExists } from "./file-create.ts";
export {
  DEFAULT_LOCK_STALE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  type FileLockOptions,
  type FileLockOwner,
  type HeldFileLock,
  LOCK_OWNER_FILE,
  MIN_LOCK_STALE_MS,
} from "./file-lock.ts";
export {
  createFileSessionStore,
  type FileSessionStore,
  type FileSessionStoreOptions,
} from "./file-session-store.ts";
export {
  type CapEntryCountOptions,
  capEntryCount,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_PRUNE_AFTER_MS,
  DEFAULT_ROTATE_BYTES,
  type PruneStaleEntriesOptions,
  parseByteSize,
  parseDurationMs,
  parseMaintenanceConfig,
  pruneStaleEntries,
  type RemovedSessionEntry,
  ROTATED_BACKUPS_KEPT,
  type RotateSessionFileOptions,
  rotateSessionFile,
  type SessionMaintenanceConfig,
  type SessionMaintenanceMode,
  type SessionMaintenancePolicy,
  type SessionMaintenanceWarning,
} from "./maintenance.ts";
export {
  createMemorySessionStore,
  type MemorySessionStoreOptions,
} from "./memory-session-store.ts";
export {
  type AgentPathOptions,
  type Env,
  expandHomePath,
  type PathOptions,
  type ResolvedStateDir,
  resolveAgentSessionsDir,
  resolveDefaultSessionStorePath,
  resolveHomeDir,
  resolveStateDir,
  resolveStateDirWithSource,
  resolveStorePath,
  type StateDirSource,
  type StorePathOptions,
} from "./paths.ts";
export { isProcessAlive } from "./process-alive.ts";
export {
  invalidateSessionStoreCache,
  type LoadSessionStoreOptions,
  loadSessionStore,
  readSessionStoreLockOwner,
  readSessionUpdatedAt,
  type SessionStoreWriteOptions,
  saveSessionStore,
  type UpdateSessionStoreEntryParams,
  updateSessionStore,
  updateSessionStoreEntry,
  withSessionStoreLock,
} from "./session-store-api.ts";
export type {
  SessionListQuery,
  SessionListResult,
  SessionListSort,
  SessionStoreBackend,
  SessionStoreChange,
  SessionStoreListener,
  SessionStoreMutator,
  SessionStoreRow,
  SessionStoreSnapshot,
  SessionStoreWatchOptions,
  SessionTextMatcher,
} from "./session-store-backend.ts";
export { defaultSessionTextMatcher, listSnapshot } from "./store-list.ts";
export { parseStoreBytes } from "./store-parse.ts";
