import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SessionsError } from "@clawkeep/schema";
import { type Env, expandHomePath, resolveStateDir } from "@clawkeep/store";
import JSON5 from "json5";
import {
  parseSessionsConfig,
  type SessionsConfig,
  type SessionsConfigInput,
} from "./sessions-config.ts";

export interface LoadSessionsConfigOptions {
  /**
   * State dir holding `openclaw.json` when no config path is given.
   * @default resolveStateDir({ env }) from `@clawkeep/store`
   */
  stateDir?: string;
  /**
   * Config file to read.
   * @default env `CLAWKEEP_CONFIG_PATH`, else `OPENCLAW_CONFIG_PATH`, else `CLAWDBOT_CONFIG_PATH`,
   * else `<stateDir>/openclaw.json`
   */
  configPath?: string;
  /** Environment to read. @default process.env */
  env?: Env;
  /**
   * Values that replace the file's (objects merged key by key, arrays and scalars replaced),
   * validated together with it.
   * @default {}
   */
  overrides?: SessionsConfigInput;
}

export interface LoadedSessionsConfig {
  config: SessionsConfig;
  /** The config file that was (or would have been) read. */
  configPath: string;
  /** The state dir in use, so callers can say which one they work on. */
  stateDir: string;
  /** False when the file does not exist and every value is a default. */
  found: boolean;
}

const CONFIG_PATH_VARIABLES = [
  "CLAWKEEP_CONFIG_PATH",
  "OPENCLAW_CONFIG_PATH",
  "CLAWDBOT_CONFIG_PATH",
] as const;

/** The config file path the loader reads; see {@link LoadSessionsConfigOptions.configPath}. */
export function resolveConfigPath(options: { stateDir?: string; env?: Env } = {}): string {
  const env = options.env ?? process.env;
  for (const name of CONFIG_PATH_VARIABLES) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== "") return expandHomePath(value, { env });
  }
  const stateDir = options.stateDir ?? resolveStateDir({ env });
  return join(stateDir, "openclaw.json");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Merges `override` onto `base` without touching either: objects key by key, anything else replaced. */
function mergeConfigValues(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = mergeConfigValues(base[key], value);
  }
  return merged;
}

async function readConfigText(configPath: string): Promise<string | undefined> {
  try {
    return await readFile(configPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new SessionsError("STORE_IO", `cannot read config file ${configPath}`, {
      details: { path: configPath },
      cause: error,
    });
  }
}

function parseConfigText(text: string, configPath: string): unknown {
  try {
    return JSON5.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const position = error as SyntaxError & { lineNumber?: number; columnNumber?: number };
    const where =
      position.lineNumber === undefined
        ? ""
        : ` at line ${position.lineNumber}, column ${position.columnNumber ?? 0}`;
    throw new SessionsError(
      "INVALID_CONFIG",
      `invalid config file ${configPath}: not valid JSON5${where} (${position.message})`,
      {
        details: { file: configPath, line: position.lineNumber, column: position.columnNumber },
        cause: error,
      },
    );
  }
}

/**
 * Reads the openclaw config file (JSON5) and returns what sessions need, validated and with
 * defaults applied. A missing file gives the defaults. Throws `INVALID_CONFIG` for a file that is
 * not JSON5 (naming the file and position) or for an invalid value (naming every key path, for
 * example `session.scope: expected "per-sender" | "global"`).
 */
export async function loadSessionsConfig(
  options: LoadSessionsConfigOptions = {},
): Promise<LoadedSessionsConfig> {
  const env = options.env ?? process.env;
  const stateDir = options.stateDir ?? resolveStateDir({ env });
  const configPath =
    options.configPath === undefined
      ? resolveConfigPath({ stateDir, env })
      : expandHomePath(options.configPath, { env });
  const text = await readConfigText(configPath);
  const fileValue = text === undefined ? {} : parseConfigText(text, configPath);
  if (!isPlainObject(fileValue)) {
    throw new SessionsError(
      "INVALID_CONFIG",
      `invalid config file ${configPath}: expected an object at the top level`,
      { details: { file: configPath, path: "(root)" } },
    );
  }
  const merged = mergeConfigValues(fileValue, options.overrides);
  const result = parseSessionsConfig(merged);
  if (!result.ok) {
    const summary = result.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
    throw new SessionsError("INVALID_CONFIG", `invalid config ${configPath}: ${summary}`, {
      details: { file: configPath, path: result.issues[0]?.path, issues: result.issues },
    });
  }
  return { config: result.config, configPath, stateDir, found: text !== undefined };
}
