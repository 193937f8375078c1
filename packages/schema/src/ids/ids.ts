import { SessionsError } from "../errors/session-error.ts";

export const DEFAULT_AGENT_ID = "main";
export const DEFAULT_MAIN_KEY = "main";
export const DEFAULT_ACCOUNT_ID = "default";

const VALID_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
const INVALID_ID_CHARS = /[^a-z0-9_-]+/g;
const SESSION_ID = /^[a-z0-9][a-z0-9._-]{0,127}$/i;

function normalizeId(value: string | null | undefined, fallback: string): string {
  const trimmed = (value ?? "").trim();
  if (trimmed === "") return fallback;
  if (VALID_ID.test(trimmed)) return trimmed.toLowerCase();
  const replaced = trimmed
    .toLowerCase()
    .replace(INVALID_ID_CHARS, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64);
  return replaced === "" ? fallback : replaced;
}

/**
 * Normalises an agent id as openclaw does: trimmed and lower-cased; runs of characters outside
 * `[a-z0-9_-]` become `-`, leading and trailing dashes are stripped, the result is cut to 64
 * characters, and an empty result is `main`. (`"__"` stays `"__"`, as in openclaw.)
 */
export function normalizeAgentId(value: string | null | undefined): string {
  return normalizeId(value, DEFAULT_AGENT_ID);
}

/** Normalises an account id with the agent-id algorithm and the fallback `default`. */
export function normalizeAccountId(value: string | null | undefined): string {
  return normalizeId(value, DEFAULT_ACCOUNT_ID);
}

/** True when `value` already is a valid agent id (1–64 chars, `[a-z0-9][a-z0-9_-]*`, any case). */
export function isValidAgentId(value: string): boolean {
  return VALID_ID.test(value);
}

/** Trims and lower-cases a main key; empty becomes `main`. */
export function normalizeMainKey(value: string | null | undefined): string {
  const trimmed = (value ?? "").trim().toLowerCase();
  return trimmed === "" ? DEFAULT_MAIN_KEY : trimmed;
}

export interface ParsedAgentSessionKey {
  /** The agent segment as written (not normalised). */
  agentId: string;
  /** Everything after `agent:<id>:`, joined by `:`. */
  rest: string;
}

/**
 * Parses `agent:<agentId>:<rest>`. Empty segments are dropped, at least three segments are
 * needed, and the first must be `agent` (any case). Returns null for anything else, including
 * `agent:main` alone and the sentinels `global` and `unknown`.
 */
export function parseAgentSessionKey(key: string | null | undefined): ParsedAgentSessionKey | null {
  const segments = (key ?? "")
    .trim()
    .split(":")
    .filter((segment) => segment !== "");
  if (segments.length < 3) return null;
  const [first, agentId, ...rest] = segments;
  if (first?.toLowerCase() !== "agent" || agentId === undefined) return null;
  return { agentId, rest: rest.join(":") };
}

export type SessionKeyShape = "missing" | "agent" | "malformed_agent" | "legacy_or_alias";

/** Classifies the shape of a raw key without looking at any store. */
export function classifySessionKeyShape(key: string | null | undefined): SessionKeyShape {
  const trimmed = (key ?? "").trim();
  if (trimmed === "") return "missing";
  if (parseAgentSessionKey(trimmed)) return "agent";
  if (trimmed.toLowerCase().startsWith("agent:")) return "malformed_agent";
  return "legacy_or_alias";
}

/** True for `subagent:<...>` and `agent:<id>:subagent:<...>` (any case). */
export function isSubagentSessionKey(key: string | null | undefined): boolean {
  const trimmed = (key ?? "").trim().toLowerCase();
  if (trimmed.startsWith("subagent:")) return true;
  const parsed = parseAgentSessionKey(trimmed);
  return parsed?.rest.startsWith("subagent:") ?? false;
}

/** True for `agent:<id>:acp:<...>`. */
export function isAcpSessionKey(key: string | null | undefined): boolean {
  const parsed = parseAgentSessionKey((key ?? "").toLowerCase());
  return parsed?.rest.startsWith("acp:") ?? false;
}

/** True for `agent:<id>:cron:<jobId>:run:<runId>` only; the agent prefix is required. */
export function isCronRunSessionKey(key: string | null | undefined): boolean {
  const parsed = parseAgentSessionKey((key ?? "").toLowerCase());
  if (parsed === null) return false;
  const parts = parsed.rest.split(":");
  return parts.length >= 4 && parts[0] === "cron" && parts[2] === "run";
}

/** True for a `agent:<id>:cron:<jobId>` key, with or without a run suffix. */
export function isCronSessionKey(key: string | null | undefined): boolean {
  const parsed = parseAgentSessionKey((key ?? "").toLowerCase());
  return parsed?.rest.startsWith("cron:") ?? false;
}

/** True when `id` (trimmed) is a safe session id: `^[a-z0-9][a-z0-9._-]{0,127}$`, any case. */
export function isValidSessionId(id: string): boolean {
  return SESSION_ID.test(id.trim());
}

/**
 * Returns the trimmed session id, or throws `INVALID_ID` with openclaw's text
 * `Invalid session ID: <id>`. A valid id can never name a path outside its directory.
 */
export function validateSessionId(id: string): string {
  const trimmed = id.trim();
  if (!SESSION_ID.test(trimmed)) {
    throw new SessionsError("INVALID_ID", `Invalid session ID: ${id}`, {
      details: { sessionId: id },
    });
  }
  return trimmed;
}
