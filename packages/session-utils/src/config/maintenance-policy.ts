import { parseMaintenanceConfig, type SessionMaintenancePolicy } from "@clawkeep/store";
import { resolveAgentMainSessionKey } from "../keys/session-keys.ts";
import { resolveDefaultAgentId } from "./agents.ts";
import type { SessionsConfig } from "./sessions-config.ts";

/**
 * The store maintenance policy of one agent's store: `session.maintenance` parsed by the store
 * (`warn` unless the config says `enforce`), with the agent's main session protected from
 * pruning and capping. Callers add `activeSessionKey`, `onRemoved` and `onWarn`.
 */
export function resolveSessionMaintenancePolicy(
  cfg: SessionsConfig,
  agentId: string = resolveDefaultAgentId(cfg),
): SessionMaintenancePolicy {
  const parsed = parseMaintenanceConfig(cfg.session.maintenance);
  return {
    mode: parsed.mode,
    pruneAfterMs: parsed.pruneAfterMs,
    maxEntries: parsed.maxEntries,
    rotateBytes: parsed.rotateBytes,
    protectedKeys: [resolveAgentMainSessionKey(cfg, agentId)],
  };
}
