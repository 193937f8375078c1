import { z } from "zod";
import { AssistantContentPartSchema, UserContentPartSchema } from "./transcript-content.ts";

/** Who produced a user message: a real person, another session, or the system itself. */
export const MESSAGE_PROVENANCE_KINDS = [
  "external_user",
  "inter_session",
  "internal_system",
] as const;
export const MessageProvenanceKindSchema = z.enum(MESSAGE_PROVENANCE_KINDS);
export type MessageProvenanceKind = z.infer<typeof MessageProvenanceKindSchema>;

/** `provenance` on a user message; title and preview readers skip `inter_session` messages. */
export const MessageProvenanceSchema = z.looseObject({
  kind: MessageProvenanceKindSchema,
  sourceSessionKey: z.string().optional(),
  sourceChannel: z.string().optional(),
  sourceTool: z.string().optional(),
});
export type MessageProvenance = z.infer<typeof MessageProvenanceSchema>;

/** `{role:"user", content, timestamp}`; `timestamp` is epoch milliseconds. */
export const UserMessageSchema = z.looseObject({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(UserContentPartSchema)]),
  timestamp: z.number(),
  provenance: MessageProvenanceSchema.optional(),
});
export type UserMessage = z.infer<typeof UserMessageSchema>;

/** Token usage of one assistant turn, with its cost in the provider's currency unit. */
export const MessageUsageSchema = z.looseObject({
  input: z.number(),
  output: z.number(),
  cacheRead: z.number(),
  cacheWrite: z.number(),
  totalTokens: z.number(),
  cost: z.looseObject({
    input: z.number(),
    output: z.number(),
    cacheRead: z.number(),
    cacheWrite: z.number(),
    total: z.number(),
  }),
});
export type MessageUsage = z.infer<typeof MessageUsageSchema>;

export const STOP_REASONS = ["stop", "length", "toolUse", "error", "aborted"] as const;
export const StopReasonSchema = z.enum(STOP_REASONS);
export type StopReason = z.infer<typeof StopReasonSchema>;

/** `{role:"assistant", content, api, provider, model, usage, stopReason, errorMessage?, timestamp}`. */
export const AssistantMessageSchema = z.looseObject({
  role: z.literal("assistant"),
  content: z.array(AssistantContentPartSchema),
  api: z.string(),
  provider: z.string(),
  model: z.string(),
  usage: MessageUsageSchema,
  stopReason: StopReasonSchema,
  errorMessage: z.string().optional(),
  timestamp: z.number(),
});
export type AssistantMessage = z.infer<typeof AssistantMessageSchema>;

/** `{role:"toolResult", toolCallId, toolName, content, details?, isError, timestamp}`. */
export const ToolResultMessageSchema = z.looseObject({
  role: z.literal("toolResult"),
  toolCallId: z.string(),
  toolName: z.string(),
  content: z.array(UserContentPartSchema),
  details: z.unknown().optional(),
  isError: z.boolean(),
  timestamp: z.number(),
});
export type ToolResultMessage = z.infer<typeof ToolResultMessageSchema>;

/** The three message roles every v3 transcript reader understands. */
export const KnownAgentMessageSchema = z.discriminatedUnion("role", [
  UserMessageSchema,
  AssistantMessageSchema,
  ToolResultMessageSchema,
]);
export type KnownAgentMessage = z.infer<typeof KnownAgentMessageSchema>;

const knownRoles: ReadonlySet<string> = new Set(["user", "assistant", "toolResult"]);

/**
 * A message with a role of its own (runtimes and extensions add roles). It passes through
 * untouched; a known role with a wrong shape does not match here.
 */
export const UnknownAgentMessageSchema = z.looseObject({
  role: z.string().refine((role) => !knownRoles.has(role), {
    message: "known role with an invalid shape",
  }),
});
export type UnknownAgentMessage = z.infer<typeof UnknownAgentMessageSchema>;

/** The `message` of a `message` entry. */
export const AgentMessageSchema = z.union([KnownAgentMessageSchema, UnknownAgentMessageSchema]);
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
