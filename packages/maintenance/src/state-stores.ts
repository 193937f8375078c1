import { readdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { normalizeAgentId, SessionsError } from "@clawkeep/schema";
import {
  createDefaultSessionsConfig,
  listSessionAgentIds,
  type SessionsConfig,
} from "@clawkeep/session-utils";
import { resolveStorePath } from "@clawkeep/store";

/** One agent's store, as the operations of this package visit it. */
export interface AgentStoreLocation {
  agentId: string;
  /** Absolute path of `sessions.json`. */
  storePath: string;
  /** The directory of the store and its transcripts. */
  sessionsDir: string;
}

/** Which stores an operation visits. */
export interface StoreSelection {
  /** The state dir holding `agents/<id>/sessions`. */
  stateDir: string;
  /** The sessions config (agents, `session.store`, main key). @default every default */
  config?: SessionsConfig;
  /**
   * Only this agent's store. Unless `storePath` names the store, the agent must be known: in the
   * config, with an `agents/<id>` dir, or with a sessions dir where the store template puts it.
   * @default every agent
   */
  agentId?: string;
  /**
   * This store instead of the configured ones: a path, or a template with `{agentId}`.
   * @default `session.store` from the config, else `<stateDir>/agents/<id>/sessions/sessions.json`
   */
  storePath?: string;
}

async function listAgentDirs(stateDir: string): Promise<string[]> {
  try {
    const entries = await readdir(join(stateDir, "agents"), { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => normalizeAgentId(entry.name));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw error;
  }
}

/**
 * The stores an operation visits: the configured agents plus every `agents/<id>` directory on
 * disk (an agent removed from the config still has files worth checking), one store per agent,
 * or the single store a fixed `session.store` path names. Sorted by agent id, duplicates
 * (agents sharing one store) removed. Throws `INVALID_PARAMS` for an unknown `agentId`.
 */
export async function listAgentStores(selection: StoreSelection): Promise<AgentStoreLocation[]> {
  const stateDir = resolve(selection.stateDir);
  const config = selection.config ?? createDefaultSessionsConfig();
  const template = selection.storePath ?? config.session.store;
  const listKnownAgentIds = async () => {
    const configured = await listSessionAgentIds(config, stateDir);
    return [...new Set([...configured, ...(await listAgentDirs(stateDir))])].sort();
  };
  let agentIds: string[];
  if (selection.agentId === undefined) agentIds = await listKnownAgentIds();
  else {
    const agentId = normalizeAgentId(selection.agentId);
    const knownIds = await listKnownAgentIds();
    const storeDir = dirname(resolveStorePath(template, { agentId, stateDir }));
    // A fixed `session.store` path is one shared folder: it says nothing about an agent.
    const perAgentStore = template === undefined || template.includes("{agentId}");
    if (
      selection.storePath === undefined &&
      !knownIds.includes(agentId) &&
      !(perAgentStore && (await isDirectory(storeDir)))
    ) {
      throw new SessionsError(
        "INVALID_PARAMS",
        `unknown agent ${JSON.stringify(selection.agentId)}: not in the config and no sessions folder at ${storeDir} (known agents: ${knownIds.join(", ")})`,
        { details: { agentId, known: knownIds } },
      );
    }
    agentIds = [agentId];
  }
  const seen = new Set<string>();
  const stores: AgentStoreLocation[] = [];
  for (const agentId of agentIds) {
    const storePath = resolveStorePath(template, { agentId, stateDir });
    if (seen.has(storePath)) continue;
    seen.add(storePath);
    stores.push({ agentId, storePath, sessionsDir: dirname(storePath) });
  }
  return stores;
}
