import { createHash } from "node:crypto";
import {
  STOP_REASONS,
  TRANSCRIPT_VERSION,
  TranscriptEntrySchema,
  TranscriptHeaderSchema,
} from "@clawkeep/schema";
import type { LegacyMessage, LegacySession } from "./legacy-session.ts";
import { parseLegacyTimestamp } from "./legacy-time.ts";

/** `customType` of the entry a legacy `system` message becomes (readers skip it for titles). */
export const LEGACY_SYSTEM_CUSTOM_TYPE = "legacy-system";
/** `customType` of the entry a message with a role outside the legacy format becomes. */
export const LEGACY_MESSAGE_CUSTOM_TYPE = "legacy-message";
/** `api`, `provider` and `model` of migrated assistant messages that did not record them. */
export const LEGACY_MODEL_FIELD = "legacy";

export interface BuildLegacyTranscriptOptions {
  /** The session id written into the header. */
  sessionId: string;
  /** The header's `cwd` (the legacy workspace: the folder the agent worked in). */
  cwd: string;
  /** Epoch ms used when neither the session nor any message carries a time. */
  fallbackMs: number;
}

/** A complete v3 transcript built from a legacy session. */
export interface LegacyTranscript {
  /** The file content: header line, then one line per entry, each newline-terminated. */
  text: string;
  /** Entries after the header. */
  entryCount: number;
  /** `message` entries among them (what a history reader yields). */
  messageCount: number;
  /** Time of the header: `created_at`, else the first message, else the fallback. */
  createdAtMs: number;
  /** Time of the newest entry (or the header when there is none). */
  lastEntryMs: number;
}

export type BuildLegacyTranscriptResult =
  | { ok: true; transcript: LegacyTranscript }
  | { ok: false; reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const ZERO_USAGE = {
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  totalTokens: 0,
  cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
};

const stopReasons: ReadonlySet<string> = new Set(STOP_REASONS);

/**
 * Text and image references of a legacy `content` value: normally a string; tolerated are a
 * list of parts (`{type:"text", text}`, `{type:"image_url", image_url:{url}}`) and any other
 * JSON, written out as JSON so nothing is lost.
 */
function splitContent(content: unknown): { texts: string[]; images: string[] } {
  if (typeof content === "string") return { texts: [content], images: [] };
  if (content === null || content === undefined) return { texts: [], images: [] };
  if (!Array.isArray(content)) return { texts: [JSON.stringify(content)], images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  for (const part of content) {
    if (typeof part === "string") texts.push(part);
    else if (isRecord(part) && typeof part.text === "string") texts.push(part.text);
    else if (isRecord(part) && isRecord(part.image_url) && typeof part.image_url.url === "string") {
      images.push(part.image_url.url);
    } else texts.push(JSON.stringify(part));
  }
  return { texts, images };
}

/** Images become text parts: the legacy files hold paths or URLs, and no bytes are invented. */
function imagePart(path: string): { type: "text"; text: string } {
  return { type: "text", text: `[image: ${path}]` };
}

function contentParts(message: LegacyMessage): { type: "text"; text: string }[] {
  const { texts, images } = splitContent(message.content);
  const parts = texts
    .filter((text) => text !== "")
    .map((text) => ({ type: "text" as const, text }));
  for (const image of [...images, ...message.images]) parts.push(imagePart(image));
  return parts;
}

function toolArguments(value: unknown): Record<string, unknown> {
  if (isRecord(value)) return value;
  if (value === undefined || value === null) return {};
  if (typeof value === "string") {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isRecord(parsed)) return parsed;
    } catch {
      // Not JSON: kept as the raw string below.
    }
  }
  return { value };
}

function toolCallPart(raw: unknown, fallbackId: string): Record<string, unknown> {
  const record = isRecord(raw) ? raw : { arguments: raw };
  const fn = isRecord(record.function) ? record.function : undefined;
  const id = typeof record.id === "string" && record.id !== "" ? record.id : fallbackId;
  const name =
    typeof record.name === "string"
      ? record.name
      : typeof fn?.name === "string"
        ? fn.name
        : "unknown";
  return {
    type: "toolCall",
    id,
    name,
    arguments: toolArguments(record.arguments ?? fn?.arguments ?? record.args ?? record.input),
  };
}

function stringField(raw: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = raw[name];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

function convertMessage(
  message: LegacyMessage,
  timestampMs: number,
  messageIndex: number,
):
  | { kind: "message"; message: Record<string, unknown> }
  | { kind: "custom"; customType: string; data: unknown } {
  const raw = message.raw;
  switch (message.role) {
    case "user": {
      const { texts, images } = splitContent(message.content);
      const allImages = [...images, ...message.images];
      const content =
        allImages.length === 0 && texts.length <= 1 ? (texts[0] ?? "") : contentParts(message);
      return { kind: "message", message: { role: "user", content, timestamp: timestampMs } };
    }
    case "assistant": {
      const parts: Record<string, unknown>[] = contentParts(message);
      message.toolCalls.forEach((call, index) => {
        parts.push(toolCallPart(call, `legacy-call-${messageIndex}-${index}`));
      });
      const stop = stringField(raw, "stop_reason", "stopReason");
      return {
        kind: "message",
        message: {
          role: "assistant",
          content: parts,
          api: stringField(raw, "api") ?? LEGACY_MODEL_FIELD,
          provider: stringField(raw, "provider") ?? LEGACY_MODEL_FIELD,
          model: stringField(raw, "model") ?? LEGACY_MODEL_FIELD,
          usage: ZERO_USAGE,
          stopReason: stop !== undefined && stopReasons.has(stop) ? stop : "stop",
          timestamp: timestampMs,
        },
      };
    }
    case "tool":
      return {
        kind: "message",
        message: {
          role: "toolResult",
          toolCallId: message.toolCallId ?? "",
          toolName: message.name ?? "",
          content: contentParts(message),
          isError: raw.is_error === true || raw.isError === true,
          timestamp: timestampMs,
        },
      };
    case "system": {
      const data: Record<string, unknown> = {
        role: "system",
        content:
          typeof message.content === "string"
            ? message.content
            : splitContent(message.content).texts.join("\n"),
        timestamp: timestampMs,
      };
      if (message.images.length > 0) data.images = message.images;
      return { kind: "custom", customType: LEGACY_SYSTEM_CUSTOM_TYPE, data };
    }
    default:
      // A role the legacy format does not define: kept whole, out of the model's view.
      return { kind: "custom", customType: LEGACY_MESSAGE_CUSTOM_TYPE, data: raw };
  }
}

/**
 * Entry ids are derived from the session id and the entry's position, so the same legacy file
 * always gives the same bytes: a rerun after a crash recognises a transcript it wrote itself.
 */
function entryId(sessionId: string, index: number, used: Set<string>): string {
  for (let attempt = 0; ; attempt += 1) {
    const id = createHash("sha256")
      .update(`${sessionId}\n${index}\n${attempt}`, "utf8")
      .digest("hex")
      .slice(0, 8);
    if (!used.has(id)) {
      used.add(id);
      return id;
    }
  }
}

/**
 * Builds an openclaw v3 transcript from a legacy session: a header, then one entry per message
 * chained by `id`/`parentId`. user, assistant and tool messages become `message` entries
 * (assistant `tool_calls` → `toolCall` parts; tool results → `toolResult` with `toolCallId`,
 * `toolName` and `isError`); system messages become `custom` entries of type `legacy-system`;
 * images become text parts `[image: <path>]`. Missing times fall back to the previous message's.
 * Every line is checked against the transcript schema.
 */
export function buildLegacyTranscript(
  session: LegacySession,
  options: BuildLegacyTranscriptOptions,
): BuildLegacyTranscriptResult {
  const firstMessageMs = session.messages
    .map((message) => parseLegacyTimestamp(message.timestamp))
    .find((value) => value !== undefined);
  const createdAtMs = session.createdAtMs ?? firstMessageMs ?? options.fallbackMs;
  const header = {
    type: "session",
    version: TRANSCRIPT_VERSION,
    id: options.sessionId,
    timestamp: new Date(createdAtMs).toISOString(),
    cwd: options.cwd,
  };
  const headerCheck = TranscriptHeaderSchema.safeParse(header);
  if (!headerCheck.success) return { ok: false, reason: "the transcript header does not validate" };

  const lines = [JSON.stringify(header)];
  const used = new Set<string>();
  let parentId: string | null = null;
  let previousMs = createdAtMs;
  let messageCount = 0;
  for (const [index, message] of session.messages.entries()) {
    const timestampMs = parseLegacyTimestamp(message.timestamp) ?? previousMs;
    previousMs = timestampMs;
    const id = entryId(options.sessionId, index, used);
    const base = { id, parentId, timestamp: new Date(timestampMs).toISOString() };
    const converted = convertMessage(message, timestampMs, index);
    const entry =
      converted.kind === "message"
        ? { type: "message", ...base, message: converted.message }
        : { type: "custom", ...base, customType: converted.customType, data: converted.data };
    const check = TranscriptEntrySchema.safeParse(entry);
    if (!check.success) {
      return {
        ok: false,
        reason: `messages[${index}] (${message.role}) does not convert to a valid entry`,
      };
    }
    if (converted.kind === "message") messageCount += 1;
    lines.push(JSON.stringify(entry));
    parentId = id;
  }
  return {
    ok: true,
    transcript: {
      text: `${lines.join("\n")}\n`,
      entryCount: lines.length - 1,
      messageCount,
      createdAtMs,
      lastEntryMs: previousMs,
    },
  };
}
