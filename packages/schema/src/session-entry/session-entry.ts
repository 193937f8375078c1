import { z } from "zod";
import { describeValidationIssues, type ValidationIssue } from "../protocol/format-issues.ts";

// Every object here is loose: fields this version does not know (written by a newer openclaw,
// or by a plugin) survive a parse and every read-modify-write.

const threadId = z.union([z.string(), z.number()]);

/** How a conversation reaches the agent. */
export const SessionChatTypeSchema = z.enum(["direct", "group", "channel"]);
export type SessionChatType = z.infer<typeof SessionChatTypeSchema>;

/** Where a session's first inbound message came from. */
export const SessionOriginSchema = z.looseObject({
  label: z.string().optional(),
  provider: z.string().optional(),
  surface: z.string().optional(),
  chatType: SessionChatTypeSchema.optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  accountId: z.string().optional(),
  threadId: threadId.optional(),
});
export type SessionOrigin = z.infer<typeof SessionOriginSchema>;

/** Where replies of a session go. Mirrored by the entry's `last*` fields. */
export const DeliveryContextSchema = z.looseObject({
  channel: z.string().optional(),
  to: z.string().optional(),
  accountId: z.string().optional(),
  threadId: threadId.optional(),
});
export type DeliveryContext = z.infer<typeof DeliveryContextSchema>;

/** The skills prompt a session was started with. */
export const SessionSkillSnapshotSchema = z.looseObject({
  prompt: z.string(),
  skills: z.array(
    z.looseObject({
      name: z.string(),
      primaryEnv: z.string().optional(),
      requiredEnv: z.array(z.string()).optional(),
    }),
  ),
  skillFilter: z.array(z.string()).optional(),
  resolvedSkills: z.array(z.looseObject({})).optional(),
  version: z.number().optional(),
});
export type SessionSkillSnapshot = z.infer<typeof SessionSkillSnapshotSchema>;

/** Size breakdown of the system prompt of a run (large; a known cause of store growth). */
export const SessionSystemPromptReportSchema = z.looseObject({
  source: z.enum(["run", "estimate"]),
  generatedAt: z.number(),
  sessionId: z.string().optional(),
  sessionKey: z.string().optional(),
  provider: z.string().optional(),
  model: z.string().optional(),
  workspaceDir: z.string().optional(),
  bootstrapMaxChars: z.number().optional(),
  sandbox: z
    .looseObject({
      mode: z.string().optional(),
      sandboxed: z.boolean().optional(),
    })
    .optional(),
  systemPrompt: z.looseObject({
    chars: z.number(),
    projectContextChars: z.number(),
    nonProjectContextChars: z.number(),
  }),
  injectedWorkspaceFiles: z.array(
    z.looseObject({
      name: z.string(),
      path: z.string(),
      missing: z.boolean(),
      rawChars: z.number(),
      injectedChars: z.number(),
      truncated: z.boolean(),
    }),
  ),
  skills: z.looseObject({
    promptChars: z.number(),
    entries: z.array(z.looseObject({ name: z.string(), blockChars: z.number() })),
  }),
  tools: z.looseObject({
    listChars: z.number(),
    schemaChars: z.number(),
    entries: z.array(
      z.looseObject({
        name: z.string(),
        summaryChars: z.number(),
        schemaChars: z.number(),
        propertiesCount: z.number().optional(),
      }),
    ),
  }),
});
export type SessionSystemPromptReport = z.infer<typeof SessionSystemPromptReportSchema>;

/** State of an ACP-backed session (written by openclaw 2026.3 and later). */
export const SessionAcpMetaSchema = z.looseObject({
  backend: z.string(),
  agent: z.string(),
  runtimeSessionName: z.string(),
  identity: z.unknown().optional(),
  mode: z.enum(["persistent", "oneshot"]),
  runtimeOptions: z.looseObject({}).optional(),
  cwd: z.string().optional(),
  state: z.enum(["idle", "running", "error"]),
  lastActivityAt: z.number(),
  lastError: z.string().optional(),
});
export type SessionAcpMeta = z.infer<typeof SessionAcpMetaSchema>;

/**
 * One session's metadata, the value under its key in `sessions.json`: every field of openclaw
 * 2026.2.12, plus the fields openclaw 2026.3 added (all optional). Known fields are checked
 * strictly (types and enum values); unknown fields are kept as they are.
 */
export const SessionEntrySchema = z.looseObject({
  sessionId: z.string().min(1),
  /** Epoch milliseconds of the last change. */
  updatedAt: z.number(),

  // Heartbeat
  lastHeartbeatText: z.string().optional(),
  lastHeartbeatSentAt: z.number().optional(),
  // Files and lineage
  /** Transcript path, absolute in practice. */
  sessionFile: z.string().optional(),
  /** Key of the parent session of a sub-agent. */
  spawnedBy: z.string().optional(),
  // Run flags
  systemSent: z.boolean().optional(),
  abortedLastRun: z.boolean().optional(),
  // Chat kind
  chatType: SessionChatTypeSchema.optional(),
  // Levels
  thinkingLevel: z.string().optional(),
  verboseLevel: z.string().optional(),
  reasoningLevel: z.string().optional(),
  elevatedLevel: z.string().optional(),
  ttsAuto: z.enum(["off", "always", "inbound", "tagged"]).optional(),
  // Exec
  execHost: z.string().optional(),
  execSecurity: z.string().optional(),
  execAsk: z.string().optional(),
  execNode: z.string().optional(),
  // Usage display
  responseUsage: z.enum(["on", "off", "tokens", "full"]).optional(),
  // Model and auth
  providerOverride: z.string().optional(),
  modelOverride: z.string().optional(),
  authProfileOverride: z.string().optional(),
  authProfileOverrideSource: z.enum(["auto", "user"]).optional(),
  authProfileOverrideCompactionCount: z.number().optional(),
  // Group behaviour
  groupActivation: z.enum(["mention", "always"]).optional(),
  groupActivationNeedsSystemIntro: z.boolean().optional(),
  sendPolicy: z.enum(["allow", "deny"]).optional(),
  // Queue
  queueMode: z
    .enum(["steer", "followup", "collect", "steer-backlog", "steer+backlog", "queue", "interrupt"])
    .optional(),
  queueDebounceMs: z.number().optional(),
  queueCap: z.number().optional(),
  queueDrop: z.enum(["old", "new", "summarize"]).optional(),
  // Tokens
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  totalTokens: z.number().optional(),
  contextTokens: z.number().optional(),
  /** Provider of the model that ran last. */
  modelProvider: z.string().optional(),
  /** Model that ran last. */
  model: z.string().optional(),
  // Compaction and memory
  compactionCount: z.number().optional(),
  memoryFlushAt: z.number().optional(),
  memoryFlushCompactionCount: z.number().optional(),
  // CLI backends
  cliSessionIds: z.record(z.string(), z.string()).optional(),
  claudeCliSessionId: z.string().optional(),
  // Labels
  label: z.string().optional(),
  displayName: z.string().optional(),
  channel: z.string().optional(),
  groupId: z.string().optional(),
  subject: z.string().optional(),
  groupChannel: z.string().optional(),
  space: z.string().optional(),
  // Provenance
  origin: SessionOriginSchema.optional(),
  deliveryContext: DeliveryContextSchema.optional(),
  lastChannel: z.string().optional(),
  lastTo: z.string().optional(),
  lastAccountId: z.string().optional(),
  lastThreadId: threadId.optional(),
  // Snapshots
  skillsSnapshot: SessionSkillSnapshotSchema.optional(),
  systemPromptReport: SessionSystemPromptReportSchema.optional(),

  // Added by openclaw 2026.3
  forkedFromParent: z.boolean().optional(),
  spawnDepth: z.number().int().min(0).optional(),
  abortCutoffMessageSid: z.string().optional(),
  abortCutoffTimestamp: z.number().optional(),
  totalTokensFresh: z.boolean().optional(),
  cacheRead: z.number().optional(),
  cacheWrite: z.number().optional(),
  fallbackNoticeSelectedModel: z.string().optional(),
  fallbackNoticeActiveModel: z.string().optional(),
  fallbackNoticeReason: z.string().optional(),
  acp: SessionAcpMetaSchema.optional(),
});

/** One session's metadata. Unknown fields are allowed and kept. */
export type SessionEntry = z.infer<typeof SessionEntrySchema>;

/** The content of `sessions.json`: session key → entry. */
export type SessionStore = Record<string, SessionEntry>;

/** The content of `sessions.json`, every entry checked strictly. */
export const SessionStoreSchema = z.record(z.string(), SessionEntrySchema);

export type SessionEntryCheckResult =
  | { ok: true; entry: SessionEntry }
  | { ok: false; issues: ValidationIssue[] };

export type SessionEntryInspection =
  | {
      ok: true;
      /** The value given, unchanged. */
      entry: SessionEntry;
      /** What does not match the schema; empty when nothing. */
      issues: ValidationIssue[];
    }
  | { ok: false; issues: ValidationIssue[] };

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function collectIssues(value: unknown): ValidationIssue[] {
  const result = SessionEntrySchema.safeParse(value);
  return result.success ? [] : describeValidationIssues(result.error.issues, { input: value });
}

/**
 * Strict check, for what clawkeep itself writes: every known field must have its type and enum
 * value. On success `entry` is the value given (same reference, key order and unknown fields
 * intact), never a parsed copy.
 */
export function checkSessionEntry(value: unknown): SessionEntryCheckResult {
  const issues = collectIssues(value);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, entry: value as SessionEntry };
}

/**
 * Tolerant check, for entries loaded from disk: any JSON object is a usable entry, and what does
 * not match the schema (a missing `sessionId`, an enum value from a newer openclaw) is reported
 * in `issues` instead of rejecting it. Only a value that is not an object is unusable.
 */
export function inspectSessionEntry(value: unknown): SessionEntryInspection {
  const issues = collectIssues(value);
  if (!isJsonObject(value)) return { ok: false, issues };
  return { ok: true, entry: value as SessionEntry, issues };
}
