export {
  type CombinedSessionStore,
  type CombinedStoreSource,
  type LoadCombinedSessionStoreParams,
  type LoadStoreSnapshot,
  listSessionAgentIds,
  loadCombinedSessionStore,
  loadSnapshotFromFile,
  toCombinedStoreKey,
} from "./combined-store.ts";
export {
  DEFAULT_CONTEXT_TOKENS,
  DEFAULT_MODEL,
  DEFAULT_MODEL_PROVIDER,
  listConfiguredAgentIds,
  type ModelRef,
  type ResolveModelResult,
  resolveConfiguredModel,
  resolveDefaultAgentId,
  resolveDefaultContextTokens,
  resolveDefaultModel,
} from "./config/agents.ts";
export {
  type LoadedSessionsConfig,
  type LoadSessionsConfigOptions,
  loadSessionsConfig,
  resolveConfigPath,
} from "./config/load-sessions-config.ts";
export { resolveSessionMaintenancePolicy } from "./config/maintenance-policy.ts";
export {
  type AgentConfig,
  type ConfigIssue,
  createDefaultSessionsConfig,
  DM_SCOPES,
  type DmScope,
  type ModelAllowlistEntry,
  type ParseSessionsConfigResult,
  parseModelRef,
  parseSessionsConfig,
  SESSION_SCOPES,
  type SessionMaintenanceInput,
  type SessionScope,
  type SessionsConfig,
  type SessionsConfigInput,
  SessionsConfigSchema,
} from "./config/sessions-config.ts";
export { buildGroupDisplayName, type GroupDisplayNameParams } from "./keys/group-display-name.ts";
export {
  type FindStoreEntryOptions,
  type FoundStoreEntry,
  findStoreEntry,
  type KeyCaseOptions,
  type KeyTwins,
  type ListKeyTwinsOptions,
  listKeyTwins,
  normalizeSessionKeyCase,
  type StoreEntryTarget,
} from "./keys/key-case.ts";
export {
  type CanonicalizeMainSessionAliasParams,
  canonicalizeMainSessionAlias,
  classifySessionKey,
  type ParsedGroupKey,
  parseGroupKey,
  type ResolveSessionStoreKeyParams,
  resolveAgentMainSessionKey,
  resolveMainSessionKey,
  resolveSessionStoreAgentId,
  resolveSessionStoreKey,
} from "./keys/session-keys.ts";
export {
  type ResolveGatewaySessionStoreTargetParams,
  resolveGatewaySessionStoreTarget,
  type SessionStoreTarget,
} from "./keys/store-target.ts";
export {
  type ParseSessionLabelResult,
  parseSessionLabel,
} from "./labels.ts";
export { matchSessionSearchText } from "./list/entry-facts.ts";
export {
  type ListCombinedSessionsParams,
  listCombinedSessions,
} from "./list/list-combined-sessions.ts";
export {
  LIST_PREVIEW_SCAN_BYTES,
  type ListSessionsFromStoreParams,
  type ListSessionsOptions,
  type ListTranscriptReaders,
  listSessionsFromStore,
} from "./list/list-sessions.ts";
export { mapWithConcurrency } from "./list/map-with-concurrency.ts";
export {
  forEachMatchingSession,
  type SessionFilters,
  selectSessionKeys,
} from "./list/select-sessions.ts";
export {
  type BuildSessionRowExtras,
  buildGatewaySessionRow,
  resolveSessionModel,
  resolveTotalTokens,
} from "./list/session-row.ts";
export {
  type ApplySessionsPatchContext,
  type ApplySessionsPatchResult,
  applySessionsPatch,
  type SessionsOperationError,
  type SessionsPatch,
} from "./patch/apply-patch.ts";
export {
  type ApplySessionsPatchToStoreParams,
  type ApplySessionsPatchToStoreResult,
  applySessionsPatchToStore,
} from "./patch/apply-patch-to-store.ts";
export { indexStoreLabels, type StoreLabelIndex } from "./patch/label-index.ts";
export {
  formatThinkingLevelHint,
  normalizeElevatedLevel,
  normalizeReasoningLevel,
  normalizeResponseUsage,
  normalizeThinkingLevel,
  normalizeVerboseLevel,
  supportsXHighThinking,
  XHIGH_MODEL_REFS,
} from "./patch/levels.ts";
export {
  type BuildResetSessionEntryOptions,
  buildResetSessionEntry,
  RESET_KEPT_FIELDS,
} from "./reset.ts";
export {
  type ResolveSessionKeyParams,
  type ResolveSessionKeyResult,
  resolveSessionKeyFromResolveParams,
} from "./resolve.ts";
export { deriveSessionTitle, type SessionTitleSource } from "./titles.ts";
