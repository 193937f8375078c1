import { parseLegacyTimestamp } from "./legacy-time.ts";

/** One message of a legacy per-session file, as read (fields checked, nothing converted). */
export interface LegacyMessage {
  role: string;
  content: unknown;
  timestamp: unknown;
  toolCalls: unknown[];
  toolCallId: string | undefined;
  name: string | undefined;
  images: string[];
  /** The record as stored, for fields the format does not define (`is_error`, `model`, …). */
  raw: Record<string, unknown>;
}

/** A legacy per-session file `<workspace>/.sessions/<id>.json`, read and checked. */
export interface LegacySession {
  /** The file stem: the id the legacy layer used for the file name. */
  id: string;
  /** `session_id` when it is a string that differs from the file stem. */
  declaredId: string | undefined;
  messages: LegacyMessage[];
  metadata: Record<string, unknown>;
  createdAtMs: number | undefined;
  updatedAtMs: number | undefined;
}

export type ParseLegacySessionResult =
  | { ok: true; session: LegacySession }
  | { ok: false; kind: "not-a-session" | "invalid"; reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * Checks the parsed JSON of a legacy session file. A JSON value without `session_id` and
 * `messages` is not a session file (`not-a-session`); one with them but a wrong shape is
 * `invalid`, with a reason that names the field.
 */
export function parseLegacySession(fileStem: string, value: unknown): ParseLegacySessionResult {
  if (!isRecord(value)) {
    return { ok: false, kind: "not-a-session", reason: "not a JSON object" };
  }
  if (!("messages" in value) && !("session_id" in value)) {
    return { ok: false, kind: "not-a-session", reason: "no session_id and no messages" };
  }
  const rawMessages = value.messages ?? [];
  if (!Array.isArray(rawMessages)) {
    return { ok: false, kind: "invalid", reason: "messages is not an array" };
  }
  const messages: LegacyMessage[] = [];
  for (const [index, raw] of rawMessages.entries()) {
    if (!isRecord(raw)) {
      return { ok: false, kind: "invalid", reason: `messages[${index}] is not an object` };
    }
    if (typeof raw.role !== "string" || raw.role === "") {
      return { ok: false, kind: "invalid", reason: `messages[${index}].role is not a string` };
    }
    const toolCalls = raw.tool_calls ?? null;
    if (toolCalls !== null && !Array.isArray(toolCalls)) {
      return { ok: false, kind: "invalid", reason: `messages[${index}].tool_calls is not a list` };
    }
    const images = raw.images ?? null;
    if (
      images !== null &&
      !(Array.isArray(images) && images.every((item) => typeof item === "string"))
    ) {
      return {
        ok: false,
        kind: "invalid",
        reason: `messages[${index}].images is not a list of strings`,
      };
    }
    messages.push({
      role: raw.role,
      content: raw.content,
      timestamp: raw.timestamp,
      toolCalls: toolCalls ?? [],
      toolCallId: optionalString(raw.tool_call_id),
      name: optionalString(raw.name),
      images: (images as string[] | null) ?? [],
      raw,
    });
  }
  const metadata = value.metadata ?? {};
  if (!isRecord(metadata)) {
    return { ok: false, kind: "invalid", reason: "metadata is not an object" };
  }
  const declared = optionalString(value.session_id);
  return {
    ok: true,
    session: {
      id: fileStem,
      declaredId: declared !== undefined && declared !== fileStem ? declared : undefined,
      messages,
      metadata,
      createdAtMs: parseLegacyTimestamp(value.created_at),
      updatedAtMs: parseLegacyTimestamp(value.updated_at),
    },
  };
}
