import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  createMethodRegistry,
  type Logger,
  type MethodRegistry,
  registerSessionMethods,
  SESSIONS_TOPIC,
  type SessionMethodsOptions,
} from "@clawkeep/gateway-methods";
import { SESSIONS_CHANGED_EVENT, SessionsError } from "@clawkeep/schema";
import type { Env } from "@clawkeep/store";
import { cac } from "cac";
import { createGatewayServer, GATEWAY_VERSION, type GatewayServer } from "./gateway-server.ts";
import {
  type GatewayFlags,
  type GatewaySettings,
  resolveGatewaySettings,
} from "./gateway-settings.ts";
import { createJsonLinesLogger } from "./json-lines-logger.ts";

const NAME = "clawkeep-gateway";

/** Exit codes: 0 stopped cleanly, 1 failed at run time, 2 bad usage or configuration. */
export const EXIT_CODES = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

export interface RunGatewayCliOptions {
  /** Environment to read. @default process.env */
  env?: Env;
  /**
   * How the session methods reach an embedding agent runtime, and their limits. The state dir,
   * config file and environment come from the gateway's own settings.
   * @default nothing ever runs, a 15 s wait, 4 MiB listings
   */
  sessions?: Pick<SessionMethodsOptions, "hooks" | "activeWaitMs" | "maxResponseBytes">;
  /**
   * Adds methods to the registry, after the session methods, before the gateway starts
   * listening.
   * @default none
   */
  registerMethods?: (registry: MethodRegistry) => void | Promise<void>;
  /** Receives every line meant for stderr. @default writes to process.stderr */
  writeError?: (line: string) => void;
  /**
   * Receives everything logged once the gateway listens (one line per request, pairing, failures,
   * shutdown). `--verbose` only affects the default.
   * @default JSON lines written to `writeError`
   */
  logger?: Logger;
  /** Receives help and version output. @default writes to process.stdout */
  writeOutput?: (line: string) => void;
}

type ParsedArgs = { kind: "run"; flags: GatewayFlags; verbose: boolean } | { kind: "done" };

const STRING_OPTIONS = ["port", "bind", "state-dir", "config", "token"] as const;

/**
 * The value typed after `--name` (or in `--name=value`), exactly as typed. cac reads option
 * values through mri, which turns numeric-looking strings into numbers (`--token 0123` would
 * become `123`), so string options are taken from argv instead.
 */
function rawOptionValue(argv: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === "--") break;
    if (arg === `--${name}`) value = argv[index + 1];
    else if (arg?.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
  }
  return value;
}

function parseArgs(argv: readonly string[], writeOutput: (line: string) => void): ParsedArgs {
  const cli = cac(NAME);
  cli
    .command("", "Start the gateway (WebSocket, protocol v3)")
    .usage("[options]")
    .option("--port <port>", `Port to listen on, 0 for any free port (default: 18790)`)
    .option("--bind <address>", "IP address to bind, or loopback / lan (default: 127.0.0.1)")
    .option("--state-dir <dir>", "State dir (default: CLAWKEEP_STATE_DIR, OPENCLAW_STATE_DIR, …)")
    .option("--config <path>", "Config file (default: CLAWKEEP_CONFIG_PATH, …)")
    .option("--token <token>", "Shared token clients must present")
    .option("--verbose", "Log connections and handshake failures")
    .action(() => {});
  // The one (default) command would be listed as a nameless "command"; options say it all.
  cli.help((sections) =>
    sections.filter(
      (section) => section.title !== "Commands" && !section.title?.startsWith("For more info"),
    ),
  );
  cli.version(GATEWAY_VERSION);
  const originalLog = console.log;
  // cac prints help and version with console.log; route them where the caller wants them.
  console.log = (...parts: unknown[]) => writeOutput(parts.map(String).join(" "));
  let verbose = false;
  try {
    const parsed = cli.parse(["node", NAME, ...argv], { run: false });
    if (parsed.options.help === true || parsed.options.version === true) return { kind: "done" };
    cli.runMatchedCommand();
    verbose = parsed.options.verbose === true;
  } catch (error) {
    // cac does not export its error class; its usage errors are recognised by name.
    if (!(error instanceof Error) || error.name !== "CACError") throw error;
    throw new SessionsError("INVALID_PARAMS", error.message);
  } finally {
    console.log = originalLog;
  }
  const flags: GatewayFlags = {};
  for (const name of STRING_OPTIONS) {
    const value = rawOptionValue(argv, name);
    if (value === undefined) continue;
    if (name === "state-dir") flags.stateDir = value;
    else flags[name] = value;
  }
  return { kind: "run", flags, verbose };
}

function describeStartup(settings: GatewaySettings, url: string): string {
  const token =
    settings.tokenFile === undefined
      ? `token from ${settings.tokenSource}`
      : `token file ${settings.tokenFile.path}${settings.tokenFile.created ? " (created)" : ""}`;
  return `${NAME}: listening on ${url} (state dir ${settings.stateDir} [${settings.stateDirSource}], ${token})`;
}

/**
 * Runs the gateway as a command: parses `argv` (without `node` and the script), resolves the
 * settings, listens, and stops gracefully on SIGTERM or SIGINT. Resolves with the exit code.
 */
export async function runGatewayCli(
  argv: readonly string[],
  options: RunGatewayCliOptions = {},
): Promise<number> {
  const env = options.env ?? process.env;
  const writeError = options.writeError ?? ((line: string) => process.stderr.write(`${line}\n`));
  const writeOutput = options.writeOutput ?? ((line: string) => process.stdout.write(`${line}\n`));

  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(argv, writeOutput);
  } catch (error) {
    if (!SessionsError.hasCode(error, "INVALID_PARAMS")) throw error;
    writeError(`${NAME}: ${error.message} (see --help)`);
    return EXIT_CODES.USAGE;
  }
  if (parsed.kind === "done") return EXIT_CODES.OK;

  let settings: GatewaySettings;
  try {
    settings = await resolveGatewaySettings(parsed.flags, env);
  } catch (error) {
    if (!SessionsError.hasCode(error, "INVALID_CONFIG")) throw error;
    writeError(`${NAME}: ${error.message}`);
    return EXIT_CODES.USAGE;
  }

  const logger =
    options.logger ?? createJsonLinesLogger({ verbose: parsed.verbose, write: writeError });
  const registry = createMethodRegistry({ logger });
  // The server is created after the methods are registered, and the first change can only be
  // reported once a client has subscribed through it.
  let server: GatewayServer | undefined;
  const sessionMethods = registerSessionMethods(registry, {
    ...options.sessions,
    stateDir: settings.stateDir,
    configPath: settings.configPath,
    env,
    logger,
    publishChange: (event) =>
      server?.sendToSubscribers(SESSIONS_TOPIC, SESSIONS_CHANGED_EVENT, event),
  });
  await options.registerMethods?.(registry);
  server = createGatewayServer({
    registry,
    token: settings.token,
    stateDir: settings.stateDir,
    host: settings.host,
    port: settings.port,
    configPath: settings.configPath,
    sessionDefaults: settings.sessionDefaults,
    describeStores: () => sessionMethods.describeStores(),
    logger,
  });

  const running = server;
  let url: string;
  try {
    url = (await running.listen()).url;
  } catch (error) {
    sessionMethods.close();
    const code = (error as NodeJS.ErrnoException).code;
    writeError(
      `${NAME}: cannot listen on ${settings.host}:${settings.port}: ${code ?? (error as Error).message}`,
    );
    return EXIT_CODES.FAILURE;
  }
  // The startup line stays the first line, in words; everything after it is the logger's.
  writeError(describeStartup(settings, url));
  if (settings.tokenFile?.tooOpen === true) {
    logger.warn("token file is readable by other users; run chmod 600 on it", {
      path: settings.tokenFile.path,
    });
  }

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn("signal received again, exiting without waiting", { signal });
        resolve(EXIT_CODES.FAILURE);
        return;
      }
      stopping = true;
      logger.info("stopping", { signal });
      running.close({ reason: "gateway stopping", restartExpectedMs: null }).then(
        () => {
          sessionMethods.close();
          process.off("SIGTERM", onSignal);
          process.off("SIGINT", onSignal);
          logger.info("stopped");
          resolve(EXIT_CODES.OK);
        },
        (error: unknown) => {
          logger.error("error while stopping", { error });
          resolve(EXIT_CODES.FAILURE);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await runGatewayCli(process.argv.slice(2));
  // Exit explicitly: a handler's leftover timer must not keep a stopped gateway alive.
  process.exit(code);
}
