export {
  type DoctorAction,
  type DoctorActionCode,
  type DoctorArchive,
  type DoctorArchiveKind,
  type DoctorProblem,
  type DoctorProblemCode,
  type DoctorReport,
  type DoctorSeverity,
  type DoctorStoreSummary,
  type RunDoctorOptions,
  runDoctor,
} from "./doctor/run-doctor.ts";
export { scanTranscript, type TranscriptScan } from "./doctor/scan-transcript.ts";
export {
  type LegacyMessage,
  type LegacySession,
  type ParseLegacySessionResult,
  parseLegacySession,
} from "./legacy/legacy-session.ts";
export { parseLegacyTimestamp } from "./legacy/legacy-time.ts";
export {
  type BuildLegacyTranscriptOptions,
  type BuildLegacyTranscriptResult,
  buildLegacyTranscript,
  LEGACY_MESSAGE_CUSTOM_TYPE,
  LEGACY_MODEL_FIELD,
  LEGACY_SYSTEM_CUSTOM_TYPE,
  type LegacyTranscript,
} from "./legacy/legacy-transcript.ts";
export {
  LEGACY_SESSION_MAP_FILE,
  LEGACY_SESSIONS_DIR_NAME,
  type MigrateLegacyWorkspaceOptions,
  type MigrationItem,
  type MigrationItemStatus,
  type MigrationMapping,
  type MigrationProgress,
  type MigrationReport,
  migrateLegacyWorkspace,
  NOT_A_LEGACY_WORKSPACE,
} from "./legacy/migrate-legacy-workspace.ts";
export {
  hashLegacyId,
  isReusableSessionId,
  legacyFallbackKey,
  type MappedKey,
  mapLegacyKey,
  migratedSessionId,
} from "./legacy/migrated-ids.ts";
export type { LockSettings } from "./lock-settings.ts";
export {
  type MaintenanceRemoval,
  type MaintenanceReport,
  type MaintenanceRules,
  type MaintenanceStoreResult,
  type RunMaintenanceOptions,
  runMaintenance,
} from "./run-maintenance.ts";
export {
  type ExportedSession,
  type ExportSessionOptions,
  exportSession,
  type ImportedSession,
  type ImportSessionOptions,
  importSession,
  parseSessionExport,
  SESSION_EXPORT_FORMAT,
  SESSION_EXPORT_VERSION,
  type SessionExport,
  SessionExportSchema,
  type SessionTransferOptions,
} from "./session-transfer.ts";
export {
  type AgentStoreLocation,
  listAgentStores,
  type StoreSelection,
} from "./state-stores.ts";
