import { createHash } from "node:crypto";
import { isValidSessionId, normalizeAgentId, parseAgentSessionKey } from "@clawkeep/schema";
import { normalizeSessionKeyCase } from "@clawkeep/session-utils";

/** First 16 hex characters of the SHA-256 of a legacy id (UTF-8). */
export function hashLegacyId(legacyId: string): string {
  return createHash("sha256").update(legacyId, "utf8").digest("hex").slice(0, 16);
}

/** True when a legacy id can be used as a session id (and file name) exactly as it is. */
export function isReusableSessionId(legacyId: string): boolean {
  return legacyId === legacyId.trim() && isValidSessionId(legacyId);
}

/**
 * The session id a legacy session gets: its own id when the session-id grammar accepts it,
 * else `legacy-<first 16 hex of sha256(id)>`. Deterministic, so a rerun finds what an earlier
 * run wrote; never a prefix of the id, which is what made the old tool's keys collide.
 */
export function migratedSessionId(legacyId: string): string {
  return isReusableSessionId(legacyId) ? legacyId : `legacy-${hashLegacyId(legacyId)}`;
}

/** `agent:<agentId>:legacy:<session id>`: the key of a session `session_map.json` does not name. */
export function legacyFallbackKey(agentId: string, legacyId: string): string {
  return `agent:${normalizeAgentId(agentId)}:legacy:${migratedSessionId(legacyId)}`;
}

/** Where a `session_map.json` key goes: the store key and the agent whose store holds it. */
export interface MappedKey {
  key: string;
  agentId: string;
}

/**
 * Normalises a key from `session_map.json`: fixed words lower case, opaque parts as written.
 * `agent:<id>:…` keys go to that agent's store; `global` and `unknown` stay as they are in the
 * default agent's store; any other bare key is prefixed `agent:<defaultAgentId>:`.
 */
export function mapLegacyKey(rawKey: string, defaultAgentId: string): MappedKey | undefined {
  const normalized = normalizeSessionKeyCase(rawKey);
  if (normalized === "") return undefined;
  const agentId = normalizeAgentId(defaultAgentId);
  if (normalized === "global" || normalized === "unknown") return { key: normalized, agentId };
  if (normalized.toLowerCase().startsWith("agent:")) {
    const parsed = parseAgentSessionKey(normalized);
    if (parsed === null) return undefined;
    // The agent segment is written as the agent id the store lives under.
    const keyAgentId = normalizeAgentId(parsed.agentId);
    return { key: `agent:${keyAgentId}:${parsed.rest}`, agentId: keyAgentId };
  }
  return { key: `agent:${agentId}:${normalized}`, agentId };
}
