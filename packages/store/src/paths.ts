import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { normalizeAgentId } from "@clawkeep/schema";

export type Env = Record<string, string | undefined>;

export interface PathOptions {
  /** Environment to read. @default process.env */
  env?: Env;
}

/** Where a resolved state dir came from, so every command can say which one it uses. */
export type StateDirSource =
  | "CLAWKEEP_STATE_DIR"
  | "OPENCLAW_STATE_DIR"
  | "CLAWDBOT_STATE_DIR"
  | "existing-clawkeep"
  | "existing-openclaw"
  | "existing-legacy"
  | "default";

export interface ResolvedStateDir {
  stateDir: string;
  source: StateDirSource;
}

const LEGACY_STATE_DIR_NAMES = [".clawdbot", ".moltbot", ".moldbot"];

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

/**
 * The home directory as openclaw resolves it: `OPENCLAW_HOME` (itself `~`-expanded against
 * `HOME`/`USERPROFILE`), else `HOME`, else `USERPROFILE`, else the OS home, else the cwd.
 */
export function resolveHomeDir(options: PathOptions = {}): string {
  const env = options.env ?? process.env;
  const osHome = nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE) ?? safeOsHome() ?? process.cwd();
  const explicit = nonEmpty(env.OPENCLAW_HOME);
  if (explicit !== undefined) return resolve(expandTildeWith(explicit, osHome));
  return resolve(osHome);
}

function safeOsHome(): string | undefined {
  try {
    return nonEmpty(homedir());
  } catch {
    return undefined;
  }
}

function expandTildeWith(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/") || path.startsWith("~\\")) return join(home, path.slice(2));
  return path;
}

/** Expands a leading `~` against {@link resolveHomeDir} and makes the path absolute. */
export function expandHomePath(path: string, options: PathOptions = {}): string {
  return resolve(expandTildeWith(path, resolveHomeDir(options)));
}

/**
 * Resolves the state dir: `CLAWKEEP_STATE_DIR`, else `OPENCLAW_STATE_DIR` (legacy
 * `CLAWDBOT_STATE_DIR`), else `~/.clawkeep` when it exists, else `~/.openclaw` when it exists,
 * else an existing legacy openclaw dir, else `~/.clawkeep` (created by the first write). Once
 * clawkeep has its own dir its data never moves; an existing openclaw install is picked up
 * when clawkeep has none.
 */
export function resolveStateDirWithSource(options: PathOptions = {}): ResolvedStateDir {
  const env = options.env ?? process.env;
  for (const name of ["CLAWKEEP_STATE_DIR", "OPENCLAW_STATE_DIR", "CLAWDBOT_STATE_DIR"] as const) {
    const value = nonEmpty(env[name]);
    if (value !== undefined) return { stateDir: expandHomePath(value, options), source: name };
  }
  const home = resolveHomeDir(options);
  const clawkeep = join(home, ".clawkeep");
  if (existsSync(clawkeep)) return { stateDir: clawkeep, source: "existing-clawkeep" };
  const openclaw = join(home, ".openclaw");
  if (existsSync(openclaw)) return { stateDir: openclaw, source: "existing-openclaw" };
  for (const name of LEGACY_STATE_DIR_NAMES) {
    const legacy = join(home, name);
    if (existsSync(legacy)) return { stateDir: legacy, source: "existing-legacy" };
  }
  return { stateDir: clawkeep, source: "default" };
}

/** The state dir path; see {@link resolveStateDirWithSource}. */
export function resolveStateDir(options: PathOptions = {}): string {
  return resolveStateDirWithSource(options).stateDir;
}

export interface AgentPathOptions extends PathOptions {
  /** Use this state dir instead of resolving one from the environment. */
  stateDir?: string;
}

/** `<stateDir>/agents/<normalizeAgentId(agentId)>/sessions`. */
export function resolveAgentSessionsDir(agentId?: string, options: AgentPathOptions = {}): string {
  const stateDir = options.stateDir ?? resolveStateDir(options);
  return join(resolve(stateDir), "agents", normalizeAgentId(agentId), "sessions");
}

/** `<agent sessions dir>/sessions.json`. */
export function resolveDefaultSessionStorePath(
  agentId?: string,
  options: AgentPathOptions = {},
): string {
  return join(resolveAgentSessionsDir(agentId, options), "sessions.json");
}

export interface StorePathOptions extends AgentPathOptions {
  agentId?: string;
}

/**
 * Resolves `session.store` from the config: no template → the agent's default store; a template
 * containing `{agentId}` → the normalised agent id substituted, then `~`-expanded and made
 * absolute; any other value → that one shared file for every agent.
 */
export function resolveStorePath(
  template: string | null | undefined,
  options: StorePathOptions = {},
): string {
  const trimmed = template?.trim();
  if (trimmed === undefined || trimmed === "") {
    return resolveDefaultSessionStorePath(options.agentId, options);
  }
  const substituted = trimmed.includes("{agentId}")
    ? trimmed.replaceAll("{agentId}", normalizeAgentId(options.agentId))
    : trimmed;
  return expandHomePath(substituted, options);
}
