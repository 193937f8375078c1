import { stat } from "node:fs/promises";
import { SessionsError } from "@clawkeep/schema";
import {
  listSessionAgentIds,
  loadSessionsConfig,
  matchSessionSearchText,
  resolveConfigPath,
  resolveDefaultAgentId,
  resolveGatewaySessionStoreTarget,
  type SessionStoreTarget,
  type SessionsConfig,
} from "@clawkeep/session-utils";
import {
  createFileSessionStore,
  type Env,
  expandHomePath,
  type FileSessionStore,
  resolveStorePath,
} from "@clawkeep/store";
import type { TranscriptLocator } from "@clawkeep/transcripts";
import { createKeySpellingMatcher } from "./store-view.ts";

/** Where the session methods find their config, stores and transcripts. */
export interface SessionStateOptions {
  /** The state dir holding `agents/<id>/sessions`. */
  stateDir: string;
  /**
   * The config file.
   * @default `CLAWKEEP_CONFIG_PATH`, else `OPENCLAW_CONFIG_PATH`, else `<stateDir>/openclaw.json`
   */
  configPath?: string;
  /** Environment for paths (`~`, the legacy transcript dir). @default process.env */
  env?: Env;
  /**
   * Supplies the config for each request instead of the file. Called once per request, so it
   * decides itself whether to cache.
   * @default the file at `configPath`, re-read when its mtime or size changes
   */
  loadConfig?: () => SessionsConfig | Promise<SessionsConfig>;
  /**
   * Quiet time after another process changed a store before it is re-read for
   * `sessions.changed`.
   * @default 50
   */
  watchDebounceMs?: number;
}

/** One agent store the combined view is built from. */
export interface AgentStoreSource {
  agentId: string;
  storePath: string;
}

/** What every session handler shares: the config, the stores and how keys map onto them. */
export interface SessionMethodContext {
  readonly stateDir: string;
  readonly env: Env;
  /** The config in force for this request. */
  config(): Promise<SessionsConfig>;
  /** The seam over one store file; one instance per path, shared by every request. */
  store(storePath: string): FileSessionStore;
  /** The same store, whose `list({ text })` finds the spellings of a key (`findKeySpellings`). */
  keyLookup(storePath: string): FileSessionStore;
  /** Where a key lives. Throws `INVALID_PARAMS` `key required` for a blank key. */
  target(cfg: SessionsConfig, key: string): SessionStoreTarget;
  /** Every agent store of the combined view, default agent first. */
  sources(cfg: SessionsConfig): Promise<AgentStoreSource[]>;
}

/** Where the transcript of a session stored in `target`'s store is looked for. */
export function transcriptLocatorFor(
  context: SessionMethodContext,
  target: SessionStoreTarget,
  session: Pick<TranscriptLocator, "sessionId" | "sessionFile">,
): TranscriptLocator {
  return {
    sessionId: session.sessionId,
    storePath: target.storePath,
    sessionFile: session.sessionFile,
    agentId: target.agentId,
    stateDir: context.stateDir,
    env: context.env,
  };
}

interface CachedConfig {
  /** `mtimeMs:size:ino` of the file read, or `missing`. */
  stamp: string;
  config: SessionsConfig;
}

async function statStamp(path: string): Promise<string> {
  try {
    const stats = await stat(path);
    return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    throw error;
  }
}

/**
 * Builds the shared context of the session methods. The config file is read again only when its
 * mtime, size or inode changed, so an edited config applies to the next request without a
 * restart and an unchanged one costs one `stat`.
 */
export function createSessionMethodContext(options: SessionStateOptions): SessionMethodContext {
  const stateDir = options.stateDir;
  const env = options.env ?? process.env;
  // Expanded here so that the file whose mtime is checked is the file that is read.
  const configPath = expandHomePath(options.configPath ?? resolveConfigPath({ stateDir, env }), {
    env,
  });
  const backends = new Map<string, FileSessionStore>();
  const lookups = new Map<string, FileSessionStore>();
  let cached: CachedConfig | undefined;

  async function readConfigFile(): Promise<SessionsConfig> {
    const stamp = await statStamp(configPath);
    if (cached !== undefined && cached.stamp === stamp) return cached.config;
    const loaded = await loadSessionsConfig({ stateDir, configPath, env });
    cached = { stamp, config: loaded.config };
    return loaded.config;
  }

  const loadConfig = options.loadConfig;
  return {
    stateDir,
    env,
    async config() {
      return loadConfig === undefined ? await readConfigFile() : await loadConfig();
    },
    store(storePath) {
      let backend = backends.get(storePath);
      if (backend === undefined) {
        backend = createFileSessionStore(storePath, {
          matchText: matchSessionSearchText,
          ...(options.watchDebounceMs === undefined
            ? {}
            : { watchDebounceMs: options.watchDebounceMs }),
        });
        backends.set(storePath, backend);
      }
      return backend;
    },
    keyLookup(storePath) {
      let lookup = lookups.get(storePath);
      if (lookup === undefined) {
        // Instances of one path share the cache and the write queue; only the text match differs.
        lookup = createFileSessionStore(storePath, { matchText: createKeySpellingMatcher() });
        lookups.set(storePath, lookup);
      }
      return lookup;
    },
    target(cfg, key) {
      if (key.trim() === "") throw new SessionsError("INVALID_PARAMS", "key required");
      return resolveGatewaySessionStoreTarget({ cfg, key, stateDir, env });
    },
    async sources(cfg) {
      const template = cfg.session.store;
      const agentIds =
        template !== undefined && !template.includes("{agentId}")
          ? [resolveDefaultAgentId(cfg)]
          : await listSessionAgentIds(cfg, stateDir);
      return agentIds.map((agentId) => ({
        agentId,
        storePath: resolveStorePath(template, { agentId, stateDir, env }),
      }));
    },
  };
}
