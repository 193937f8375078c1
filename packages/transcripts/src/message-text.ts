import type { SessionPreviewItem } from "@clawkeep/schema";

/*
 * Pure text helpers over transcript messages: what a title, a last-message line or a preview
 * item shows. Messages come straight from JSON.parse, so nothing about their shape is assumed.
 */

type UnknownRecord = Record<string, unknown>;

function isRecord(value: unknown): value is UnknownRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const TEXT_PART_TYPES: ReadonlySet<string> = new Set(["text", "output_text", "input_text"]);
const TOOL_CALL_PART_TYPES: ReadonlySet<string> = new Set(["toolcall", "tool_call", "tool_use"]);

/**
 * The text a title or a last-message line shows for a message: string content trimmed, or the
 * first `text` / `output_text` / `input_text` part with non-blank text, trimmed. Null when there is
 * none.
 */
export function extractMessageText(message: unknown): string | null {
  if (!isRecord(message)) return null;
  const content = message.content;
  if (typeof content === "string") {
    const trimmed = content.trim();
    return trimmed === "" ? null : trimmed;
  }
  if (!Array.isArray(content)) return null;
  for (const part of content) {
    if (!isRecord(part) || typeof part.type !== "string" || !TEXT_PART_TYPES.has(part.type)) {
      continue;
    }
    if (typeof part.text !== "string") continue;
    const trimmed = part.text.trim();
    if (trimmed !== "") return trimmed;
  }
  return null;
}

/** The roles a preview item can have. */
export type SessionPreviewRole = SessionPreviewItem["role"];

const PREVIEW_ROLES: ReadonlySet<string> = new Set(["user", "assistant", "system", "tool"]);

/** Names of the tools a message calls or answers, in order, without duplicates removed. */
function toolNames(message: UnknownRecord): string[] {
  const names: string[] = [];
  for (const field of ["toolName", "tool_name"] as const) {
    const value = message[field];
    if (typeof value === "string" && value.trim() !== "") names.push(value.trim());
  }
  if (Array.isArray(message.content)) {
    for (const part of message.content) {
      if (!isRecord(part) || typeof part.type !== "string") continue;
      if (!TOOL_CALL_PART_TYPES.has(part.type.toLowerCase())) continue;
      if (typeof part.name === "string" && part.name.trim() !== "") names.push(part.name.trim());
    }
  }
  return names;
}

function previewText(message: UnknownRecord, names: string[]): string | null {
  const content = message.content;
  if (typeof content === "string") {
    const trimmed = content.trim();
    if (trimmed !== "") return trimmed;
  } else if (Array.isArray(content)) {
    const texts: string[] = [];
    for (const part of content) {
      if (isRecord(part) && typeof part.text === "string" && part.text.trim() !== "") {
        texts.push(part.text.trim());
      }
    }
    if (texts.length > 0) return texts.join("\n");
  }
  if (typeof message.text === "string" && message.text.trim() !== "") return message.text.trim();
  if (names.length > 0) {
    const shown = names.slice(0, 2).join(", ");
    return names.length > 2 ? `call ${shown} +${names.length - 2}` : `call ${shown}`;
  }
  if (Array.isArray(content)) {
    for (const part of content) {
      if (!isRecord(part) || typeof part.type !== "string" || part.type === "") continue;
      const type = part.type.toLowerCase();
      if (TEXT_PART_TYPES.has(type) || TOOL_CALL_PART_TYPES.has(type)) continue;
      return `[${part.type}]`;
    }
  }
  return null;
}

/**
 * Channel labels that open the envelope a gateway puts in front of inbound user text, as in
 * `[Telegram Alice 2026-02-12 10:00] hi`.
 */
const CHANNEL_LABELS = [
  "WebChat",
  "WhatsApp",
  "Telegram",
  "Signal",
  "Slack",
  "Discord",
  "Google Chat",
  "iMessage",
  "BlueBubbles",
  "Teams",
  "Microsoft Teams",
  "Matrix",
  "Mattermost",
  "Nextcloud Talk",
  "Zalo",
  "Zalo Personal",
  "LINE",
  "Feishu",
  "Twitch",
  "IRC",
  "Nostr",
  "Email",
  "SMS",
  "Voice",
];

const ENVELOPE = /^\s*\[([^\]\n]{1,200})\]\s*/;
const DATE_LIKE = /\d{4}-\d{2}-\d{2}|\b\d{1,2}:\d{2}\b/;

/**
 * Removes the envelope a gateway puts in front of inbound user text: a leading `[...]` whose
 * inside looks like a timestamp or starts with a known channel label. Other brackets (`[x] done`)
 * are left alone.
 */
export function stripChannelEnvelope(text: string): string {
  const match = ENVELOPE.exec(text);
  if (match === null) return text;
  const inside = (match[1] as string).trim();
  const labelled = CHANNEL_LABELS.some(
    (label) => inside === label || inside.startsWith(`${label} `),
  );
  if (!labelled && !DATE_LIKE.test(inside)) return text;
  const rest = text.slice(match[0].length);
  return rest === "" ? text : rest;
}

/**
 * Cuts text to at most `maxChars` UTF-16 units: `maxChars - 3` units and `...`, or a hard cut when
 * `maxChars` is 3 or less. A cut never splits a surrogate pair (an emoji), so the result can be one
 * unit shorter than `maxChars`.
 */
export function truncatePreviewText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars <= 3) return cutAt(text, maxChars);
  return `${cutAt(text, maxChars - 3)}...`;
}

function cutAt(text: string, length: number): string {
  const code = text.charCodeAt(length - 1);
  const splitsPair = code >= 0xd800 && code <= 0xdbff;
  return text.slice(0, splitsPair ? length - 1 : length);
}

/**
 * The preview item for one message, or null when the message shows no text at all. A message
 * that calls or answers a tool is a `tool` item; user text loses its channel envelope.
 */
export function toSessionPreviewItem(
  message: unknown,
  maxChars: number,
): SessionPreviewItem | null {
  if (!isRecord(message)) return null;
  const names = toolNames(message);
  const rawRole = typeof message.role === "string" ? message.role : "";
  const role: SessionPreviewRole =
    names.length > 0
      ? "tool"
      : PREVIEW_ROLES.has(rawRole)
        ? (rawRole as SessionPreviewRole)
        : "other";
  let text = previewText(message, names);
  if (text === null) return null;
  if (rawRole === "user") text = stripChannelEnvelope(text).trim();
  if (text === "") return null;
  return { role, text: truncatePreviewText(text, maxChars) };
}

/** Clamps preview limits into the ranges openclaw accepts: items 1..50, characters 20..2000. */
export function clampPreviewLimits(
  maxItems: number,
  maxChars: number,
): { maxItems: number; maxChars: number } {
  const clamp = (value: number, low: number, high: number, fallback: number) =>
    Number.isFinite(value) ? Math.min(high, Math.max(low, Math.floor(value))) : fallback;
  return { maxItems: clamp(maxItems, 1, 50, 12), maxChars: clamp(maxChars, 20, 2000, 240) };
}
