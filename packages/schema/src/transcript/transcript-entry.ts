import { z } from "zod";
import { AgentMessageSchema } from "./transcript-message.ts";

/** The transcript format version clawkeep reads and writes. */
export const TRANSCRIPT_VERSION = 3;

/**
 * Line 1 of a transcript. Files compacted by openclaw 2026.2.12 have no header at all; readers
 * accept that.
 */
export const TranscriptHeaderSchema = z.looseObject({
  type: z.literal("session"),
  version: z.number().int(),
  /** The session id. */
  id: z.string(),
  timestamp: z.string(),
  cwd: z.string(),
  /** Path of the transcript this one was forked from. */
  parentSession: z.string().optional(),
});
export type TranscriptHeader = z.infer<typeof TranscriptHeaderSchema>;

/**
 * Fields every entry has. `id` is 8 hex characters in files written by openclaw or clawkeep (a
 * full UUID in rare older files); `parentId` is the previous leaf, or null for a root. After a
 * compaction `parentId` may name an entry that is no longer in the file.
 */
const entryBase = {
  id: z.string(),
  parentId: z.string().nullable(),
  timestamp: z.string(),
};

export const MessageEntrySchema = z.looseObject({
  ...entryBase,
  type: z.literal("message"),
  message: AgentMessageSchema,
});
export type MessageEntry = z.infer<typeof MessageEntrySchema>;

export const ThinkingLevelChangeEntrySchema = z.looseObject({
  ...entryBase,
  type: z.literal("thinking_level_change"),
  thinkingLevel: z.string(),
});
export type ThinkingLevelChangeEntry = z.infer<typeof ThinkingLevelChangeEntrySchema>;

export const ModelChangeEntrySchema = z.looseObject({
  ...entryBase,
  type: z.literal("model_change"),
  provider: z.string(),
  modelId: z.string(),
});
export type ModelChangeEntry = z.infer<typeof ModelChangeEntrySchema>;

/** A model-side summary of the context before `firstKeptEntryId`; the file stays append-only. */
export const CompactionEntrySchema = z.looseObject({
  ...entryBase,
  type: z.literal("compaction"),
  summary: z.string(),
  firstKeptEntryId: z.string(),
  tokensBefore: z.number(),
  details: z.unknown().optional(),
  fromHook: z.boolean().optional(),
});
export type CompactionEntry = z.infer<typeof CompactionEntrySchema>;

export const BranchSummaryEntrySchema = z.looseObject({
  ...entryBase,
  type: z.literal("branch_summary"),
  fromId: z.string(),
  summary: z.string(),
  details: z.unknown().optional(),
  fromHook: z.boolean().optional(),
});
export type BranchSummaryEntry = z.infer<typeof BranchSummaryEntrySchema>;

/** Extension data that is not sent to the model. */
export const CustomEntrySchema = z.looseObject({
  ...entryBase,
  type: z.literal("custom"),
  customType: z.string(),
  data: z.unknown().optional(),
});
export type CustomEntry = z.infer<typeof CustomEntrySchema>;

/** An extension message that is sent to the model. */
export const CustomMessageEntrySchema = z.looseObject({
  ...entryBase,
  type: z.literal("custom_message"),
  customType: z.string(),
  content: z.unknown(),
  details: z.unknown().optional(),
  display: z.boolean(),
});
export type CustomMessageEntry = z.infer<typeof CustomMessageEntrySchema>;

export const LabelEntrySchema = z.looseObject({
  ...entryBase,
  type: z.literal("label"),
  targetId: z.string(),
  label: z.string().optional(),
});
export type LabelEntry = z.infer<typeof LabelEntrySchema>;

export const SessionInfoEntrySchema = z.looseObject({
  ...entryBase,
  type: z.literal("session_info"),
  name: z.string().optional(),
});
export type SessionInfoEntry = z.infer<typeof SessionInfoEntrySchema>;

/** The entry types of transcript format version 3. */
export const TRANSCRIPT_ENTRY_TYPES = [
  "message",
  "thinking_level_change",
  "model_change",
  "compaction",
  "branch_summary",
  "custom",
  "custom_message",
  "label",
  "session_info",
] as const;
export type TranscriptEntryType = (typeof TRANSCRIPT_ENTRY_TYPES)[number];

const knownLineTypes: ReadonlySet<string> = new Set<string>(["session", ...TRANSCRIPT_ENTRY_TYPES]);

export const KnownTranscriptEntrySchema = z.discriminatedUnion("type", [
  MessageEntrySchema,
  ThinkingLevelChangeEntrySchema,
  ModelChangeEntrySchema,
  CompactionEntrySchema,
  BranchSummaryEntrySchema,
  CustomEntrySchema,
  CustomMessageEntrySchema,
  LabelEntrySchema,
  SessionInfoEntrySchema,
]);
export type KnownTranscriptEntry = z.infer<typeof KnownTranscriptEntrySchema>;

/**
 * An entry of a type this version does not know (written by a newer runtime or an extension).
 * It passes through untouched; a *known* type with a wrong shape does not match here, so it
 * still fails validation.
 */
export const UnknownTranscriptEntrySchema = z.looseObject({
  type: z.string().refine((type) => !knownLineTypes.has(type), {
    message: "known line type with an invalid shape",
  }),
});
export type UnknownTranscriptEntry = z.infer<typeof UnknownTranscriptEntrySchema>;

/** Any entry line (everything but the header). */
export const TranscriptEntrySchema = z.union([
  KnownTranscriptEntrySchema,
  UnknownTranscriptEntrySchema,
]);
export type TranscriptEntry = z.infer<typeof TranscriptEntrySchema>;

/** Any line of a transcript: the header or an entry. */
export const TranscriptLineSchema = z.union([TranscriptHeaderSchema, TranscriptEntrySchema]);
export type TranscriptLine = z.infer<typeof TranscriptLineSchema>;
