import { z } from "zod";

/*
 * Content parts of transcript messages (v3 transcripts as written by openclaw's agent runtime).
 * Every object is loose: fields this version does not know are kept, so a transcript written by
 * a newer runtime survives a read and a rewrite unchanged.
 */

/** `{type:"text", text}`. */
export const TextContentSchema = z.looseObject({
  type: z.literal("text"),
  text: z.string(),
});
export type TextContent = z.infer<typeof TextContentSchema>;

/** `{type:"thinking", thinking}`: the model's reasoning, kept in assistant messages. */
export const ThinkingContentSchema = z.looseObject({
  type: z.literal("thinking"),
  thinking: z.string(),
});
export type ThinkingContent = z.infer<typeof ThinkingContentSchema>;

/** `{type:"image", data, mimeType}` with base64 `data`. */
export const ImageContentSchema = z.looseObject({
  type: z.literal("image"),
  data: z.string(),
  mimeType: z.string(),
});
export type ImageContent = z.infer<typeof ImageContentSchema>;

/** `{type:"toolCall", id, name, arguments}` inside an assistant message. */
export const ToolCallContentSchema = z.looseObject({
  type: z.literal("toolCall"),
  id: z.string(),
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()),
});
export type ToolCallContent = z.infer<typeof ToolCallContentSchema>;

/** What a user message or a tool result may contain. */
export const UserContentPartSchema = z.discriminatedUnion("type", [
  TextContentSchema,
  ImageContentSchema,
]);
export type UserContentPart = z.infer<typeof UserContentPartSchema>;

/** What an assistant message may contain. */
export const AssistantContentPartSchema = z.discriminatedUnion("type", [
  TextContentSchema,
  ThinkingContentSchema,
  ToolCallContentSchema,
]);
export type AssistantContentPart = z.infer<typeof AssistantContentPartSchema>;
