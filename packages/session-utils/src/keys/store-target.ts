import { type Env, resolveStorePath } from "@clawkeep/store";
import type { SessionsConfig } from "../config/sessions-config.ts";
import { resolveSessionStoreAgentId, resolveSessionStoreKey } from "./session-keys.ts";

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
  /** The canonical key, then the trimmed raw key when it differs; looked up in this order. */
  storeKeys: string[];
  /** The configured main key, so lookups recognise it in any case. */
  mainKey: string;
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
  const canonicalKey = resolveSessionStoreKey({ cfg, sessionKey: rawKey });
  const agentId = resolveSessionStoreAgentId(cfg, canonicalKey);
  const pathOptions: { agentId: string; stateDir?: string; env?: Env } = { agentId };
  if (params.stateDir !== undefined) pathOptions.stateDir = params.stateDir;
  if (params.env !== undefined) pathOptions.env = params.env;
  const storePath = resolveStorePath(cfg.session.store, pathOptions);
  const storeKeys =
    rawKey !== "" && rawKey !== canonicalKey ? [canonicalKey, rawKey] : [canonicalKey];
  return { agentId, storePath, canonicalKey, storeKeys, mainKey: cfg.session.mainKey };
}
