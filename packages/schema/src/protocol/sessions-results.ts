import { z } from "zod";
import {
  DeliveryContextSchema,
  SessionChatTypeSchema,
  SessionEntrySchema,
  SessionOriginSchema,
} from "../session-entry/session-entry.ts";
import { integer, literalUnion, nonEmptyString } from "./primitives.ts";

// Result objects are strict: they describe exactly what clawkeep sends.

/** Kind of a listed session, derived from its key and entry. */
export const SessionKindSchema = literalUnion(["direct", "group", "global", "unknown"]);
export type SessionKind = z.infer<typeof SessionKindSchema>;

/** One row of `sessions.list`, fields in the order they are sent; absent values are omitted. */
export const GatewaySessionRowSchema = z.strictObject({
  key: nonEmptyString(),
  kind: SessionKindSchema,
  label: z.string().optional(),
  displayName: z.string().optional(),
  /** The entry's channel, else the channel of a group key. */
  channel: z.string().optional(),
  subject: z.string().optional(),
  groupChannel: z.string().optional(),
  space: z.string().optional(),
  chatType: SessionChatTypeSchema.optional(),
  origin: SessionOriginSchema.optional(),
  updatedAt: z.number().nullable(),
  sessionId: z.string().optional(),
  systemSent: z.boolean().optional(),
  abortedLastRun: z.boolean().optional(),
  thinkingLevel: z.string().optional(),
  verboseLevel: z.string().optional(),
  reasoningLevel: z.string().optional(),
  elevatedLevel: z.string().optional(),
  sendPolicy: SessionEntrySchema.shape.sendPolicy,
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  /** The entry's `totalTokens`, else input + output (missing counted as 0): always a number. */
  totalTokens: z.number(),
  responseUsage: SessionEntrySchema.shape.responseUsage,
  /** The session's provider override, else the agent's default. */
  modelProvider: z.string().optional(),
  /** The session's model override, else the agent's default. */
  model: z.string().optional(),
  contextTokens: z.number().optional(),
  deliveryContext: DeliveryContextSchema.optional(),
  lastChannel: z.string().optional(),
  lastTo: z.string().optional(),
  lastAccountId: z.string().optional(),
  derivedTitle: z.string().optional(),
  lastMessagePreview: z.string().optional(),
});
export type GatewaySessionRow = z.infer<typeof GatewaySessionRowSchema>;

/** Something `sessions.list` skipped, such as an agent store that could not be read. */
export const SessionsListWarningSchema = z.strictObject({
  /** A {@link SessionErrorCode} such as `STORE_CORRUPT`. */
  code: nonEmptyString(),
  message: nonEmptyString(),
  agentId: z.string().optional(),
  path: z.string().optional(),
});
export type SessionsListWarning = z.infer<typeof SessionsListWarningSchema>;

/**
 * Result of `sessions.list`. `count` is the number of rows returned; `total` (the rows that
 * matched before paging), `nextOffset` (`null` on the last page) and `warnings` (present only
 * when not empty) are clawkeep additions.
 */
export const SessionsListResultSchema = z.strictObject({
  ts: z.number(),
  /** The store path, its template, or `(multiple)`. */
  path: z.string(),
  count: integer(0),
  defaults: z.strictObject({
    modelProvider: z.string().nullable(),
    model: z.string().nullable(),
    contextTokens: z.number().nullable(),
  }),
  sessions: z.array(GatewaySessionRowSchema),
  total: integer(0),
  nextOffset: integer(0).nullable(),
  warnings: z.array(SessionsListWarningSchema).min(1).optional(),
});
export type SessionsListResult = z.infer<typeof SessionsListResultSchema>;

/** One message of a preview. `tool` covers tool calls and tool results. */
export const SessionPreviewItemSchema = z.strictObject({
  role: literalUnion(["user", "assistant", "system", "tool", "other"]),
  text: z.string(),
});
export type SessionPreviewItem = z.infer<typeof SessionPreviewItemSchema>;

/**
 * The preview of one requested key, which is echoed as sent. `truncated: true` (a clawkeep
 * addition) appears only when the scan limit stopped the read before `limit` items were found.
 */
export const SessionPreviewSchema = z.strictObject({
  key: z.string(),
  status: literalUnion(["ok", "empty", "missing", "error"]),
  items: z.array(SessionPreviewItemSchema),
  truncated: z.literal(true).optional(),
});
export type SessionPreview = z.infer<typeof SessionPreviewSchema>;

/** Result of `sessions.preview`. */
export const SessionsPreviewResultSchema = z.strictObject({
  ts: z.number(),
  previews: z.array(SessionPreviewSchema),
});
export type SessionsPreviewResult = z.infer<typeof SessionsPreviewResultSchema>;

/** Result of `sessions.resolve`: the canonical key. */
export const SessionsResolveResultSchema = z.strictObject({
  ok: z.literal(true),
  key: nonEmptyString(),
});
export type SessionsResolveResult = z.infer<typeof SessionsResolveResultSchema>;

/** Result of `sessions.patch`: the stored entry and the model it resolves to. */
export const SessionsPatchResultSchema = z.strictObject({
  ok: z.literal(true),
  /** The store file that was written. */
  path: z.string(),
  key: nonEmptyString(),
  entry: SessionEntrySchema,
  resolved: z.strictObject({
    modelProvider: z.string().optional(),
    model: z.string().optional(),
  }),
});
export type SessionsPatchResult = z.infer<typeof SessionsPatchResultSchema>;

/** Result of `sessions.reset`: the new entry. */
export const SessionsResetResultSchema = z.strictObject({
  ok: z.literal(true),
  key: nonEmptyString(),
  entry: SessionEntrySchema,
});
export type SessionsResetResult = z.infer<typeof SessionsResetResultSchema>;

/** Result of `sessions.delete`; `archived` lists the renamed transcript files. */
export const SessionsDeleteResultSchema = z.strictObject({
  ok: z.literal(true),
  key: nonEmptyString(),
  deleted: z.boolean(),
  archived: z.array(z.string()),
});
export type SessionsDeleteResult = z.infer<typeof SessionsDeleteResultSchema>;

/** Result of `sessions.compact`: compacted (with the backup path), short enough, or impossible. */
export const SessionsCompactResultSchema = z.union([
  z.strictObject({
    ok: z.literal(true),
    key: nonEmptyString(),
    compacted: z.literal(true),
    archived: nonEmptyString(),
    kept: integer(0),
  }),
  z.strictObject({
    ok: z.literal(true),
    key: nonEmptyString(),
    compacted: z.literal(false),
    kept: integer(0),
  }),
  z.strictObject({
    ok: z.literal(true),
    key: nonEmptyString(),
    compacted: z.literal(false),
    reason: literalUnion(["no sessionId", "no transcript"]),
  }),
]);
export type SessionsCompactResult = z.infer<typeof SessionsCompactResultSchema>;

/** Name of the event sent to `sessions.subscribe`rs when a session changes (a clawkeep addition). */
export const SESSIONS_CHANGED_EVENT = "sessions.changed";

/** What happened to a session, in a `sessions.changed` event. */
export const SESSION_CHANGE_ACTIONS = [
  "created",
  "patched",
  "reset",
  "deleted",
  "compacted",
] as const;
export type SessionChangeAction = (typeof SESSION_CHANGE_ACTIONS)[number];

/** Payload of a `sessions.changed` event. */
export const SessionsChangedEventSchema = z.strictObject({
  key: nonEmptyString(),
  agentId: nonEmptyString(),
  action: literalUnion(SESSION_CHANGE_ACTIONS),
  /** When the change was seen, epoch milliseconds. */
  ts: z.number(),
});
export type SessionsChangedEvent = z.infer<typeof SessionsChangedEventSchema>;
