import { normalizeAgentId, parseAgentSessionKey } from "@clawkeep/schema";
import { type Env, resolveStorePath } from "@clawkeep/store";
import { resolveDefaultAgentId } from "../config/agents.ts";
import type { SessionsConfig } from "../config/sessions-config.ts";
import { bareStoreKeyOf } from "./key-case.ts";
import {
  resolveAgentMainSessionKey,
  resolveSessionStoreAgentId,
  resolveSessionStoreKey,
} from "./session-keys.ts";

export interface ResolveGatewaySessionStoreTargetParams {
  cfg: SessionsConfig;
  /** The key as the caller gave it; trimmed here. */
  key: string;
  /** State dir for the default store paths. @default resolved from `env` by `@clawkeep/store` */
  stateDir?: string;
  /** Environment for the state dir and `~` expansion. @default process.env */
  env?: Env;
}

/** Where a key's session lives, and the keys to look it up by. */
export interface SessionStoreTarget {
  agentId: string;
  /** The agent's `sessions.json` (absolute). */
  storePath: string;
  canonicalKey: string;
  /**
   * Every spelling the session may be stored under, canonical key first: the trimmed raw key,
   * the bare key without `agent:<id>:` when the agent's bare keys live in this store, and for a
   * main session `agent:<id>:main` (and bare `main`). Lookups take the newest of them (and of
   * their twins in the case of fixed words); a write moves the session to the canonical key.
   */
  storeKeys: string[];
  /** The configured main key, so lookups recognise it in any case. */
  mainKey: string;
}

/**
 * Whether bare keys (no `agent:` prefix) in the store of `agentId` are that agent's sessions: in
 * a per-agent store always; a fixed `session.store` path is shared, and the combined view reads it
 * as the default agent's store.
 */
function holdsBareKeysOf(cfg: SessionsConfig, agentId: string): boolean {
  const template = cfg.session.store;
  if (template === undefined || template.includes("{agentId}")) return true;
  return agentId === resolveDefaultAgentId(cfg);
}

/**
 * Resolves a key to its canonical form, its agent and that agent's store. `global` and `unknown`
 * belong to the default agent's store.
 */
export function resolveGatewaySessionStoreTarget(
  params: ResolveGatewaySessionStoreTargetParams,
): SessionStoreTarget {
  const { cfg } = params;
  const rawKey = params.key.trim();
  let canonicalKey = resolveSessionStoreKey({ cfg, sessionKey: rawKey });
  // An agent segment that is not a valid agent id (`agent:../../x:main`) names the agent it
  // normalises to, so the key is stored under that agent's canonical form (`agent:x:main`).
  const parsed = parseAgentSessionKey(canonicalKey);
  if (parsed !== null && normalizeAgentId(parsed.agentId) !== parsed.agentId.toLowerCase()) {
    canonicalKey = resolveSessionStoreKey({
      cfg,
      sessionKey: `agent:${normalizeAgentId(parsed.agentId)}:${parsed.rest}`,
    });
  }
  const agentId = resolveSessionStoreAgentId(cfg, canonicalKey);
  const pathOptions: { agentId: string; stateDir?: string; env?: Env } = { agentId };
  if (params.stateDir !== undefined) pathOptions.stateDir = params.stateDir;
  if (params.env !== undefined) pathOptions.env = params.env;
  const storePath = resolveStorePath(cfg.session.store, pathOptions);
  const spellings = new Set([canonicalKey]);
  if (rawKey !== "") spellings.add(rawKey);
  const isMain =
    cfg.session.scope !== "global" && canonicalKey === resolveAgentMainSessionKey(cfg, agentId);
  if (isMain) spellings.add(`agent:${agentId}:main`);
  if (holdsBareKeysOf(cfg, agentId)) {
    const bare = bareStoreKeyOf(canonicalKey, agentId);
    if (bare !== undefined) spellings.add(bare);
    if (isMain) spellings.add("main");
  }
  const storeKeys = [...spellings];
  return { agentId, storePath, canonicalKey, storeKeys, mainKey: cfg.session.mainKey };
}
