import type { SessionsListResult } from "@clawkeep/schema";
import type { Env } from "@clawkeep/store";
import { type LoadStoreSnapshot, loadCombinedSessionStore } from "../combined-store.ts";
import type { SessionsConfig } from "../config/sessions-config.ts";
import {
  type ListSessionsOptions,
  type ListTranscriptReaders,
  listSessionsFromStore,
} from "./list-sessions.ts";

export interface ListCombinedSessionsParams {
  cfg: SessionsConfig;
  /** Filters, paging and derived fields. @default {} */
  opts?: ListSessionsOptions;
  /** State dir of the stores. @default resolved from `env` by `@clawkeep/store` */
  stateDir?: string;
  /** Environment for path resolution. @default process.env */
  env?: Env;
  /** How an agent's store is read. @default the file store of `@clawkeep/store` */
  loadStore?: LoadStoreSnapshot;
  /** Current time in epoch ms. @default Date.now */
  now?: () => number;
  /** Transcript readers for derived titles and previews. @default the `@clawkeep/transcripts` readers */
  readers?: ListTranscriptReaders;
}

/**
 * `sessions.list` over every agent: loads the combined view ({@link loadCombinedSessionStore})
 * and lists it ({@link listSessionsFromStore}); skipped agent stores appear in `warnings`.
 */
export async function listCombinedSessions(
  params: ListCombinedSessionsParams,
): Promise<SessionsListResult> {
  const loadParams: Parameters<typeof loadCombinedSessionStore>[0] = { cfg: params.cfg };
  if (params.stateDir !== undefined) loadParams.stateDir = params.stateDir;
  if (params.env !== undefined) loadParams.env = params.env;
  if (params.loadStore !== undefined) loadParams.loadStore = params.loadStore;
  const combined = await loadCombinedSessionStore(loadParams);
  const listParams: Parameters<typeof listSessionsFromStore>[0] = {
    cfg: params.cfg,
    storePath: combined.path,
    store: combined.store,
    warnings: combined.warnings,
  };
  if (params.opts !== undefined) listParams.opts = params.opts;
  if (params.stateDir !== undefined) listParams.stateDir = params.stateDir;
  if (params.env !== undefined) listParams.env = params.env;
  if (params.now !== undefined) listParams.now = params.now;
  if (params.readers !== undefined) listParams.readers = params.readers;
  return await listSessionsFromStore(listParams);
}
