import { z } from "zod";
import {
  integer,
  nonEmptyString,
  nullable,
  nullableLiteralUnion,
  sessionLabelString,
} from "./primitives.ts";

// Params objects are strict: an unknown key is an error (`at root: unexpected property 'x'`).

/** Params of `sessions.list`; all optional. `offset` is a clawkeep addition. */
export const SessionsListParamsSchema = z.strictObject({
  limit: integer(1).optional(),
  /** Rows to skip after sorting and filtering, for paging with `nextOffset`. */
  offset: integer(0).optional(),
  activeMinutes: integer(1).optional(),
  includeGlobal: z.boolean().optional(),
  includeUnknown: z.boolean().optional(),
  /** Reads the start of each returned row's transcript. */
  includeDerivedTitles: z.boolean().optional(),
  /** Reads the end of each returned row's transcript. */
  includeLastMessage: z.boolean().optional(),
  label: sessionLabelString().optional(),
  spawnedBy: nonEmptyString().optional(),
  agentId: nonEmptyString().optional(),
  search: z.string().optional(),
});
export type SessionsListParams = z.infer<typeof SessionsListParamsSchema>;

/**
 * Params of `sessions.preview`. More than 64 keys are accepted and cut to the first 64 by the
 * handler; `limit` and `maxChars` are capped there too.
 */
export const SessionsPreviewParamsSchema = z.strictObject({
  keys: z.array(nonEmptyString()).min(1),
  limit: integer(1).optional(),
  maxChars: integer(20).optional(),
});
export type SessionsPreviewParams = z.infer<typeof SessionsPreviewParamsSchema>;

/** Params of `sessions.resolve`; exactly one of key, sessionId and label is checked by the handler. */
export const SessionsResolveParamsSchema = z.strictObject({
  key: nonEmptyString().optional(),
  sessionId: nonEmptyString().optional(),
  label: sessionLabelString().optional(),
  agentId: nonEmptyString().optional(),
  spawnedBy: nonEmptyString().optional(),
  includeGlobal: z.boolean().optional(),
  includeUnknown: z.boolean().optional(),
});
export type SessionsResolveParams = z.infer<typeof SessionsResolveParamsSchema>;

const clearable = () => nullable(nonEmptyString()).optional();

/** Params of `sessions.patch`: the key and the fields to change; `null` clears a field. */
export const SessionsPatchParamsSchema = z.strictObject({
  key: nonEmptyString(),
  label: nullable(sessionLabelString()).optional(),
  thinkingLevel: clearable(),
  verboseLevel: clearable(),
  reasoningLevel: clearable(),
  responseUsage: nullableLiteralUnion(["off", "tokens", "full", "on"]).optional(),
  elevatedLevel: clearable(),
  execHost: clearable(),
  execSecurity: clearable(),
  execAsk: clearable(),
  execNode: clearable(),
  model: clearable(),
  spawnedBy: clearable(),
  sendPolicy: nullableLiteralUnion(["allow", "deny"]).optional(),
  groupActivation: nullableLiteralUnion(["mention", "always"]).optional(),
});
export type SessionsPatchParams = z.infer<typeof SessionsPatchParamsSchema>;

/** Params of `sessions.reset`. */
export const SessionsResetParamsSchema = z.strictObject({
  key: nonEmptyString(),
});
export type SessionsResetParams = z.infer<typeof SessionsResetParamsSchema>;

/** Params of `sessions.delete`; the transcript is archived unless `deleteTranscript` is false. */
export const SessionsDeleteParamsSchema = z.strictObject({
  key: nonEmptyString(),
  deleteTranscript: z.boolean().optional(),
});
export type SessionsDeleteParams = z.infer<typeof SessionsDeleteParamsSchema>;

/** Params of `sessions.compact`; `maxLines` defaults to 400 in the handler. */
export const SessionsCompactParamsSchema = z.strictObject({
  key: nonEmptyString(),
  maxLines: integer(1).optional(),
});
export type SessionsCompactParams = z.infer<typeof SessionsCompactParamsSchema>;

/** Params of `sessions.subscribe` (a clawkeep addition): none. */
export const SessionsSubscribeParamsSchema = z.strictObject({});
export type SessionsSubscribeParams = z.infer<typeof SessionsSubscribeParamsSchema>;

/** Params of `sessions.unsubscribe` (a clawkeep addition): none. */
export const SessionsUnsubscribeParamsSchema = z.strictObject({});
export type SessionsUnsubscribeParams = z.infer<typeof SessionsUnsubscribeParamsSchema>;

/** The params schema of every `sessions.*` method clawkeep serves, by method name. */
export const SESSIONS_METHOD_PARAMS = {
  "sessions.list": SessionsListParamsSchema,
  "sessions.preview": SessionsPreviewParamsSchema,
  "sessions.resolve": SessionsResolveParamsSchema,
  "sessions.patch": SessionsPatchParamsSchema,
  "sessions.reset": SessionsResetParamsSchema,
  "sessions.delete": SessionsDeleteParamsSchema,
  "sessions.compact": SessionsCompactParamsSchema,
  "sessions.subscribe": SessionsSubscribeParamsSchema,
  "sessions.unsubscribe": SessionsUnsubscribeParamsSchema,
} as const;

export type SessionsMethod = keyof typeof SESSIONS_METHOD_PARAMS;
