import { normalizeAgentId, parseAgentSessionKey } from "@clawkeep/schema";
import { resolveDefaultAgentId } from "../config/agents.ts";
import type { SessionsConfig } from "../config/sessions-config.ts";
import { normalizeSessionKeyCase } from "./key-case.ts";

/** `global` under global scope, else `agent:<default agent>:<mainKey>`. */
export function resolveMainSessionKey(cfg: SessionsConfig): string {
  if (cfg.session.scope === "global") return "global";
  return `agent:${resolveDefaultAgentId(cfg)}:${cfg.session.mainKey}`;
}

/** The main session key of one agent: `agent:<id>:<mainKey>`, or `global` under global scope. */
export function resolveAgentMainSessionKey(cfg: SessionsConfig, agentId: string): string {
  if (cfg.session.scope === "global") return "global";
  return `agent:${normalizeAgentId(agentId)}:${cfg.session.mainKey}`;
}

export interface CanonicalizeMainSessionAliasParams {
  cfg: SessionsConfig;
  agentId: string;
  sessionKey: string;
}

/**
 * Maps the aliases of an agent's main session (`main`, the main key, `agent:<id>:main`,
 * `agent:<id>:<mainKey>`, any case) to `agent:<id>:<mainKey>` (or `global` under global scope).
 * Any other key is returned trimmed.
 */
export function canonicalizeMainSessionAlias(params: CanonicalizeMainSessionAliasParams): string {
  const { cfg } = params;
  const agentId = normalizeAgentId(params.agentId);
  const trimmed = params.sessionKey.trim();
  const lower = trimmed.toLowerCase();
  const mainKey = cfg.session.mainKey;
  const aliases = ["main", mainKey, `agent:${agentId}:main`, `agent:${agentId}:${mainKey}`];
  if (!aliases.includes(lower)) return trimmed;
  return resolveAgentMainSessionKey(cfg, agentId);
}

export interface ResolveSessionStoreKeyParams {
  cfg: SessionsConfig;
  sessionKey: string;
}

/**
 * Canonicalises a key as the gateway stores it: `global`/`unknown` pass through; an agent key gets
 * its fixed words lower-cased and its main alias mapped (`agent:ops:main` → `agent:ops:<mainKey>`);
 * bare `main` or the main key is the default agent's main session; any other bare key is put under
 * the default agent (`MySession` → `agent:<default>:MySession`). Empty stays empty.
 */
export function resolveSessionStoreKey(params: ResolveSessionStoreKeyParams): string {
  const { cfg } = params;
  const trimmed = params.sessionKey.trim();
  if (trimmed === "") return "";
  const caseOptions = { mainKey: cfg.session.mainKey };
  const normalized = normalizeSessionKeyCase(trimmed, caseOptions);
  if (normalized === "global" || normalized === "unknown") return normalized;
  const parsed = parseAgentSessionKey(normalized);
  if (parsed !== null) {
    return canonicalizeMainSessionAlias({ cfg, agentId: parsed.agentId, sessionKey: normalized });
  }
  if (normalized.toLowerCase().startsWith("agent:")) return trimmed;
  const lower = normalized.toLowerCase();
  if (lower === "main" || lower === cfg.session.mainKey) return resolveMainSessionKey(cfg);
  return `agent:${resolveDefaultAgentId(cfg)}:${normalized}`;
}

/** The agent owning a canonical key: its `agent:<id>:` segment (normalised), else the default agent. */
export function resolveSessionStoreAgentId(cfg: SessionsConfig, canonicalKey: string): string {
  const parsed = parseAgentSessionKey(canonicalKey);
  return parsed === null ? resolveDefaultAgentId(cfg) : normalizeAgentId(parsed.agentId);
}

export type SessionKind = "direct" | "group" | "global" | "unknown";

/**
 * `global` and `unknown` for the sentinels; `group` when the entry's chat type is group or channel,
 * or the key holds `:group:`/`:channel:`; else `direct`.
 */
export function classifySessionKey(
  key: string,
  entry?: { chatType?: string | null | undefined } | null,
): SessionKind {
  const lower = key.trim().toLowerCase();
  if (lower === "global") return "global";
  if (lower === "unknown") return "unknown";
  if (entry?.chatType === "group" || entry?.chatType === "channel") return "group";
  if (lower.includes(":group:") || lower.includes(":channel:")) return "group";
  return "direct";
}

export interface ParsedGroupKey {
  /** Channel name, lower case. */
  channel: string;
  kind: "group" | "channel";
  /** The group id as written (everything after the kind). */
  id: string;
}

/**
 * Parses `<channel>:group|channel:<id>` from the rest of an agent key (or from a bare key). The
 * channel and kind come back lower case; the id keeps its case. Null for any other shape.
 */
export function parseGroupKey(key: string | null | undefined): ParsedGroupKey | null {
  const raw = (key ?? "").trim();
  if (raw === "") return null;
  const rest = parseAgentSessionKey(raw)?.rest ?? raw;
  const parts = rest.split(":").filter((part) => part !== "");
  if (parts.length < 3) return null;
  const [channel, kind, ...idParts] = parts;
  const lowerKind = kind?.toLowerCase();
  if (channel === undefined || (lowerKind !== "group" && lowerKind !== "channel")) return null;
  return { channel: channel.toLowerCase(), kind: lowerKind, id: idParts.join(":") };
}
