import { type SessionDefaults, SessionsError } from "@clawkeep/schema";
import {
  loadSessionsConfig,
  resolveDefaultAgentId,
  resolveMainSessionKey,
} from "@clawkeep/session-utils";
import { type Env, expandHomePath, resolveStateDirWithSource } from "@clawkeep/store";
import { ensureGatewayTokenFile, type GatewayTokenFile } from "./gateway-token.ts";
import {
  DEFAULT_BIND_HOST,
  DEFAULT_GATEWAY_PORT,
  isLoopbackAddress,
  parsePort,
  resolveBindHost,
} from "./network.ts";

/** Command-line values, as typed (strings), before any resolution. */
export interface GatewayFlags {
  port?: string;
  bind?: string;
  stateDir?: string;
  config?: string;
  token?: string;
}

/** Where the shared token came from, for the startup line. */
export type GatewayTokenSource =
  | "--token"
  | "CLAWKEEP_GATEWAY_TOKEN"
  | "OPENCLAW_GATEWAY_TOKEN"
  | "gateway.auth.token"
  | "token file";

/** Everything the gateway needs to start, resolved from flags, environment and config file. */
export interface GatewaySettings {
  host: string;
  port: number;
  stateDir: string;
  /** Where the state dir came from (`--state-dir`, an env variable, an existing dir, …). */
  stateDirSource: string;
  configPath: string;
  configFound: boolean;
  sessionDefaults: SessionDefaults;
  token: string;
  tokenSource: GatewayTokenSource;
  /** Set when the token lives in (or was just written to) the gateway's token file. */
  tokenFile: GatewayTokenFile | undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

function firstDefined<Source extends string>(
  candidates: ReadonlyArray<readonly [Source, string | undefined]>,
): { source: Source; value: string } | undefined {
  for (const [source, value] of candidates) {
    const present = nonEmpty(value);
    if (present !== undefined) return { source, value: present };
  }
  return undefined;
}

/**
 * Resolves the gateway's settings. Flags beat the environment (`CLAWKEEP_GATEWAY_*`, then
 * `OPENCLAW_GATEWAY_*`), which beats the config file (`gateway.auth.token`). Auth is never off:
 * on a loopback address without a configured token, the token file
 * `<stateDir>/clawkeep/gateway.token` is read or created; on any other address a configured token
 * is required and its absence is an `INVALID_CONFIG` error.
 */
export async function resolveGatewaySettings(
  flags: GatewayFlags,
  env: Env = process.env,
): Promise<GatewaySettings> {
  const portValue = firstDefined([
    ["--port", flags.port],
    ["CLAWKEEP_GATEWAY_PORT", env.CLAWKEEP_GATEWAY_PORT],
    ["OPENCLAW_GATEWAY_PORT", env.OPENCLAW_GATEWAY_PORT],
  ]);
  const port =
    portValue === undefined ? DEFAULT_GATEWAY_PORT : parsePort(portValue.value, portValue.source);
  const bindValue = firstDefined([
    ["--bind", flags.bind],
    ["CLAWKEEP_GATEWAY_BIND", env.CLAWKEEP_GATEWAY_BIND],
    ["OPENCLAW_GATEWAY_BIND", env.OPENCLAW_GATEWAY_BIND],
  ]);
  const host = bindValue === undefined ? DEFAULT_BIND_HOST : resolveBindHost(bindValue.value);

  const stateDirFlag = nonEmpty(flags.stateDir);
  const resolvedStateDir =
    stateDirFlag === undefined
      ? resolveStateDirWithSource({ env })
      : { stateDir: expandHomePath(stateDirFlag, { env }), source: "--state-dir" };
  const stateDir = resolvedStateDir.stateDir;

  const configFlag = nonEmpty(flags.config);
  const loaded = await loadSessionsConfig({
    stateDir,
    env,
    ...(configFlag === undefined ? {} : { configPath: configFlag }),
  });
  const config = loaded.config;
  const sessionDefaults: SessionDefaults = {
    defaultAgentId: resolveDefaultAgentId(config),
    mainKey: config.session.mainKey,
    mainSessionKey: resolveMainSessionKey(config),
    scope: config.session.scope,
  };

  const configured = firstDefined<GatewayTokenSource>([
    ["--token", flags.token],
    ["CLAWKEEP_GATEWAY_TOKEN", env.CLAWKEEP_GATEWAY_TOKEN],
    ["OPENCLAW_GATEWAY_TOKEN", env.OPENCLAW_GATEWAY_TOKEN],
    ["gateway.auth.token", config.gateway.auth.token],
  ]);
  const base = {
    host,
    port,
    stateDir,
    stateDirSource: resolvedStateDir.source,
    configPath: loaded.configPath,
    configFound: loaded.found,
    sessionDefaults,
  };
  if (configured !== undefined) {
    return {
      ...base,
      token: configured.value,
      tokenSource: configured.source,
      tokenFile: undefined,
    };
  }
  if (!isLoopbackAddress(host)) {
    throw new SessionsError(
      "INVALID_CONFIG",
      `refusing to listen on ${host} without a configured token: set --token, ` +
        `CLAWKEEP_GATEWAY_TOKEN or gateway.auth.token in ${loaded.configPath} ` +
        "(a generated token file is only used on a loopback address)",
      { details: { path: "gateway.auth.token", host } },
    );
  }
  const tokenFile = await ensureGatewayTokenFile(stateDir);
  return { ...base, token: tokenFile.token, tokenSource: "token file", tokenFile };
}
