import { realpathSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import { fileURLToPath } from "node:url";
import { SessionsError } from "@clawkeep/schema";
import type { SessionsConfig } from "@clawkeep/session-utils";
import type { Env } from "@clawkeep/store";
import type { CAC } from "cac";
import { cac } from "cac";
import type { CommandContext, CommandResult } from "./command-context.ts";
import { describeError } from "./describe-error.ts";
import { EXIT_CODES, type ExitCode } from "./exit-codes.ts";
import { createOutputStyle, shouldUseColor } from "./output-style.ts";
import { rawOptionValue, rawOptionValues } from "./raw-options.ts";
import { isUsageError, usageError, wantsHelpHint } from "./usage-error.ts";

const NAME = "clawkeep";
/** The version `clawkeep --version` prints. */
export const CLI_VERSION = "0.1.0";

/** Where a run reads and writes; the defaults are the process's own. */
export interface RunCliOptions {
  /** Environment to read. @default process.env */
  env?: Env;
  /** Receives stdout text. @default process.stdout.write */
  writeOutput?: (text: string) => void;
  /** Receives stderr text. @default process.stderr.write */
  writeError?: (text: string) => void;
  /** Whether stdin, stdout and stderr are terminals. @default from the process streams */
  tty?: { stdin: boolean; stdout: boolean; stderr: boolean };
}

/** A command chosen by the parser, not yet loaded. */
type PendingCommand = (context: CommandContext) => Promise<CommandResult>;

interface Parsed {
  /** The command to run, or undefined when help or the version was printed. */
  command: PendingCommand | undefined;
}

/** What parsing learnt that error messages need, even when parsing itself failed. */
interface ParseState {
  /** The help command for the command being run: `clawkeep sessions patch --help`. */
  helpCommand: string;
}

function addGlobalOptions(cli: CAC): void {
  cli.option(
    "--state-dir <dir>",
    "State dir (default: CLAWKEEP_STATE_DIR, OPENCLAW_STATE_DIR, ~/.clawkeep, ~/.openclaw)",
  );
  cli.option(
    "--config <path>",
    "Config file (default: CLAWKEEP_CONFIG_PATH, OPENCLAW_CONFIG_PATH, <state dir>/openclaw.json)",
  );
  cli.option("--json", "Print one JSON document on stdout");
  cli.option("--debug", "Show stack traces of errors");
}

function argString(value: unknown): string {
  return String(value);
}

/** A non-negative integer flag, or undefined when absent; bad values are usage errors. */
function integerFlag(argv: readonly string[], name: string, min: number): number | undefined {
  const raw = rawOptionValue(argv, name);
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw usageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function defineSessionsCommands(
  cli: CAC,
  argv: readonly string[],
  select: (command: PendingCommand) => void,
): void {
  const remote = (command: ReturnType<CAC["command"]>) =>
    command
      .option("--url <url>", "Use a running gateway instead of the files (ws://host:port)")
      .option(
        "--token <token>",
        "Gateway token (default: CLAWKEEP_GATEWAY_TOKEN, then the gateway's token file)",
      )
      .option(
        "--agent <id>",
        "Agent whose sessions are meant (default: the configured default agent)",
      )
      .option(
        "--store <path>",
        "Store to use instead of the configured one (a path, or a template with {agentId})",
      );
  const connection = () => ({
    url: rawOptionValue(argv, "url"),
    token: rawOptionValue(argv, "token"),
    agent: rawOptionValue(argv, "agent"),
    store: rawOptionValue(argv, "store"),
  });

  remote(cli.command("list", "List sessions, newest first"))
    .option("--limit <n>", "At most this many rows")
    .option("--offset <n>", "Skip this many rows (paging)")
    .option("--search <text>", "Only sessions whose key, id, label or name contains this")
    .option("--label <label>", "Only sessions with this label")
    .option("--spawned-by <key>", "Only sub-agent sessions spawned by this session")
    .option("--active-minutes <n>", "Only sessions updated in the last n minutes")
    .option("--include-global", "Include the global session")
    .option("--include-unknown", "Include the unknown session")
    .option("--titles", "Derive a title from each transcript's first user message")
    .option("--last-message", "Show each session's last message")
    .example("  $ clawkeep sessions list --limit 20 --titles")
    .action((options: Record<string, unknown>) => {
      const params = {
        limit: integerFlag(argv, "limit", 1),
        offset: integerFlag(argv, "offset", 0),
        search: rawOptionValue(argv, "search"),
        label: rawOptionValue(argv, "label"),
        spawnedBy: rawOptionValue(argv, "spawned-by"),
        activeMinutes: integerFlag(argv, "active-minutes", 1),
        includeGlobal: options.includeGlobal === true ? true : undefined,
        includeUnknown: options.includeUnknown === true ? true : undefined,
        includeDerivedTitles: options.titles === true ? true : undefined,
        includeLastMessage: options.lastMessage === true ? true : undefined,
      };
      select(async (context) => {
        const { runSessionsList } = await import("./commands/sessions-list.ts");
        return await runSessionsList(params, connection(), context);
      });
    });

  remote(cli.command("show <key>", "Show one session: its entry, transcript and last messages"))
    .option("--messages <n>", "How many of the last messages to show (default: 5)")
    .example("  $ clawkeep sessions show agent:main:main")
    .action((key: unknown) => {
      const messages = integerFlag(argv, "messages", 1);
      select(async (context) => {
        const { runSessionsShow } = await import("./commands/sessions-show.ts");
        return await runSessionsShow(argString(key), { messages }, connection(), context);
      });
    });

  remote(cli.command("preview <...keys>", "The last messages of one or more sessions"))
    .option("--limit <n>", "Messages per session (default: 12)")
    .option("--max-chars <n>", "Characters per message (default: 240)")
    .example(
      "  $ clawkeep sessions preview agent:main:main agent:main:telegram:direct:42 --limit 3",
    )
    .action((keys: unknown[]) => {
      const params = {
        keys: keys.map(argString),
        limit: integerFlag(argv, "limit", 1),
        maxChars: integerFlag(argv, "max-chars", 20),
      };
      select(async (context) => {
        const { runSessionsPreview } = await import("./commands/sessions-preview.ts");
        return await runSessionsPreview(params, connection(), context);
      });
    });

  remote(
    cli.command("resolve [key]", "Find the canonical key of a session by key, session id or label"),
  )
    .option("--session-id <id>", "Find by session id")
    .option("--label <label>", "Find by label")
    .example("  $ clawkeep sessions resolve --label standup")
    .action((key: unknown) => {
      const params = {
        key: key === undefined ? undefined : argString(key),
        sessionId: rawOptionValue(argv, "session-id"),
        label: rawOptionValue(argv, "label"),
      };
      select(async (context) => {
        const { runSessionsResolve } = await import("./commands/sessions-resolve.ts");
        return await runSessionsResolve(params, connection(), context);
      });
    });

  const patch = remote(cli.command("patch <key>", "Change a session's settings")).option(
    "--params <json>",
    'The whole patch as JSON, e.g. \'{"label":"x","model":null}\'',
  );
  for (const field of PATCH_FLAG_NAMES) {
    patch.option(`--${field} <value>`, `Set ${field}`);
    patch.option(`--clear-${field}`, `Clear ${field}`);
  }
  patch
    .example("  $ clawkeep sessions patch agent:main:main --label standup --thinking-level high")
    .example("  $ clawkeep sessions patch agent:main:main --clear-model")
    .action((key: unknown) => {
      select(async (context) => {
        const { runSessionsPatch } = await import("./commands/sessions-patch.ts");
        return await runSessionsPatch({ key: argString(key), argv }, connection(), context);
      });
    });

  remote(cli.command("reset <key>", "Start a session afresh (new session id; settings kept)"))
    .option("-y, --yes", "Do not ask for confirmation")
    .example("  $ clawkeep sessions reset agent:main:main --yes")
    .action((key: unknown) => {
      select(async (context) => {
        const { runSessionsReset } = await import("./commands/sessions-reset.ts");
        return await runSessionsReset(argString(key), connection(), context);
      });
    });

  remote(
    cli.command("delete <key>", "Delete a session; its transcript is archived as .deleted.<time>"),
  )
    .option("--keep-transcript", "Leave the transcript where it is")
    .option("-y, --yes", "Do not ask for confirmation")
    .example("  $ clawkeep sessions delete agent:main:telegram:direct:42 --yes")
    .action((key: unknown, options: Record<string, unknown>) => {
      const deleteTranscript = options.keepTranscript !== true;
      select(async (context) => {
        const { runSessionsDelete } = await import("./commands/sessions-delete.ts");
        return await runSessionsDelete(argString(key), { deleteTranscript }, connection(), context);
      });
    });

  remote(
    cli.command(
      "compact <key>",
      "Cut a transcript to its last lines; the original is kept as .bak.<time>",
    ),
  )
    .option("--max-lines <n>", "Entries to keep (default: 400)")
    .example("  $ clawkeep sessions compact agent:main:main --max-lines 200")
    .action((key: unknown) => {
      const maxLines = integerFlag(argv, "max-lines", 1);
      select(async (context) => {
        const { runSessionsCompact } = await import("./commands/sessions-compact.ts");
        return await runSessionsCompact(argString(key), { maxLines }, connection(), context);
      });
    });
}

/** Patch fields as flags: `--thinking-level high`, `--clear-thinking-level`. */
export const PATCH_FLAG_NAMES = [
  "label",
  "thinking-level",
  "verbose-level",
  "reasoning-level",
  "response-usage",
  "elevated-level",
  "exec-host",
  "exec-security",
  "exec-ask",
  "exec-node",
  "model",
  "spawned-by",
  "send-policy",
  "group-activation",
] as const;

function defineGatewayCommands(
  cli: CAC,
  argv: readonly string[],
  select: (command: PendingCommand) => void,
): void {
  cli
    .command("call <method>", "Call a gateway method and print its result")
    .option("--params <json>", "Params as JSON (default: {})")
    .option("--url <url>", "Gateway URL (default: ws://127.0.0.1:18790, or CLAWKEEP_GATEWAY_PORT)")
    .option(
      "--token <token>",
      "Gateway token (default: CLAWKEEP_GATEWAY_TOKEN, then the gateway's token file)",
    )
    .option("--timeout <ms>", "How long to wait for the answer (default: 30000)")
    .example(`  $ clawkeep gateway call sessions.list --params '{"limit":5}'`)
    .action((method: unknown) => {
      const timeoutMs = integerFlag(argv, "timeout", 1);
      select(async (context) => {
        const { runGatewayCall } = await import("./commands/gateway-call.ts");
        return await runGatewayCall(
          argString(method),
          {
            params: rawOptionValue(argv, "params"),
            url: rawOptionValue(argv, "url"),
            token: rawOptionValue(argv, "token"),
            timeoutMs,
          },
          context,
        );
      });
    });
}

function defineDevicesCommands(
  cli: CAC,
  _argv: readonly string[],
  select: (command: PendingCommand) => void,
): void {
  cli.command("list", "List paired devices and pending pairing requests").action(() => {
    select(async (context) => {
      const { runDevicesList } = await import("./commands/devices.ts");
      return await runDevicesList(context);
    });
  });
  cli
    .command("approve <requestId>", "Approve a pending pairing request")
    .example("  $ clawkeep devices approve 3f1c…")
    .action((requestId: unknown) => {
      select(async (context) => {
        const { runDevicesApprove } = await import("./commands/devices.ts");
        return await runDevicesApprove(argString(requestId), context);
      });
    });
  cli
    .command("revoke <deviceId>", "Forget a paired device and its tokens")
    .action((deviceId: unknown) => {
      select(async (context) => {
        const { runDevicesRevoke } = await import("./commands/devices.ts");
        return await runDevicesRevoke(argString(deviceId), context);
      });
    });
}

function defineTopCommands(
  cli: CAC,
  argv: readonly string[],
  select: (command: PendingCommand) => void,
): void {
  cli.command(
    "sessions <command>",
    "Work with sessions: list, show, preview, resolve, patch, reset, delete, compact",
  );
  cli.command("gateway <command>", "Talk to a running gateway: call");
  cli.command("devices <command>", "Devices paired with the gateway: list, approve, revoke");

  cli
    .command("doctor", "Check every agent's store and transcripts; --fix repairs what is safe")
    .option("--fix", "Repair: stale locks, temp files of dead writers, torn lines, a corrupt store")
    .option("--strict", "Exit 1 on warnings too (default: only on errors)")
    .option("--agent <id>", "Only this agent")
    .option("--store <path>", "Check this store (a path, or a template with {agentId})")
    .option("-y, --yes", "Do not ask for confirmation before repairing")
    .example("  $ clawkeep doctor")
    .example("  $ clawkeep doctor --fix --yes")
    .action((options: Record<string, unknown>) => {
      const flags = {
        fix: options.fix === true,
        strict: options.strict === true,
        agent: rawOptionValue(argv, "agent"),
        store: rawOptionValue(argv, "store"),
      };
      select(async (context) => {
        const { runDoctorCommand } = await import("./commands/doctor.ts");
        return await runDoctorCommand(flags, context);
      });
    });

  cli
    .command("maintenance", "Apply the store's maintenance rules (dry run unless --enforce)")
    .option("--enforce", "Remove the entries and archive their transcripts")
    .option("--active-key <key>", "A session in use, never removed (repeatable)")
    .option("--prune-after <duration>", "Override session.maintenance.pruneAfter (30d, 12h, …)")
    .option("--max-entries <n>", "Override session.maintenance.maxEntries")
    .option("--agent <id>", "Only this agent")
    .option("--store <path>", "Use this store (a path, or a template with {agentId})")
    .option("-y, --yes", "Do not ask for confirmation before removing")
    .example("  $ clawkeep maintenance")
    .example("  $ clawkeep maintenance --enforce --active-key agent:main:telegram:direct:42 --yes")
    .action((options: Record<string, unknown>) => {
      const flags = {
        enforce: options.enforce === true,
        activeKeys: rawOptionValues(argv, "active-key"),
        pruneAfter: rawOptionValue(argv, "prune-after"),
        maxEntries: integerFlag(argv, "max-entries", 0),
        agent: rawOptionValue(argv, "agent"),
        store: rawOptionValue(argv, "store"),
      };
      select(async (context) => {
        const { runMaintenanceCommand } = await import("./commands/maintenance.ts");
        return await runMaintenanceCommand(flags, context);
      });
    });

  const migrate = cli
    .command(
      "migrate <workspace>",
      "Migrate a legacy workspace (<workspace>/.sessions/*.json) into the configured stores",
    )
    .option(
      "--agent <id>",
      "Agent for the sessions session_map.json does not name (default: the configured default agent)",
    )
    .option(
      "--store <path>",
      "Store to write instead of the configured session.store (a path, or a template with {agentId})",
    )
    .option("--dry-run", "Report what would happen and write nothing")
    .option(
      "--no-backup",
      "Skip the copy of the legacy files to .sessions/backup-<time>/ (taken by default)",
    );
  // cac gives a `--no-x` option the default true and prints it as "(default: true)", which reads
  // as if skipping the backup were the default; the flag is read as "given or not" instead.
  for (const option of migrate.options) if (option.negated) option.config.default = undefined;
  migrate
    .example("  $ clawkeep migrate ~/.openclaw/workspace --dry-run")
    .example("  $ clawkeep migrate ~/.openclaw/workspace --agent main")
    .action((workspace: unknown, options: Record<string, unknown>) => {
      const flags = {
        agent: rawOptionValue(argv, "agent"),
        store: rawOptionValue(argv, "store"),
        dryRun: options.dryRun === true,
        backup: options.backup !== false,
      };
      select(async (context) => {
        const { runMigrate } = await import("./commands/migrate.ts");
        return await runMigrate(argString(workspace), flags, context);
      });
    });

  cli
    .command("export <key>", "Export one session (entry and transcript) as one JSON file")
    .option("--out <file>", "Write to this file (default: print the document)")
    .example("  $ clawkeep export agent:main:main --out main-session.json")
    .action((key: unknown) => {
      const out = rawOptionValue(argv, "out");
      select(async (context) => {
        const { runExport } = await import("./commands/export.ts");
        return await runExport(argString(key), { out }, context);
      });
    });

  cli
    .command("import <file>", "Import a session exported with `clawkeep export`")
    .option("--rename", "Give it a fresh key and session id when they are taken")
    .option("--agent <id>", "Import into this agent (default: the one it was exported from)")
    .example("  $ clawkeep import main-session.json --rename")
    .action((file: unknown, options: Record<string, unknown>) => {
      const flags = { rename: options.rename === true, agent: rawOptionValue(argv, "agent") };
      select(async (context) => {
        const { runImport } = await import("./commands/import.ts");
        return await runImport(argString(file), flags, context);
      });
    });
}

const GROUPS = {
  sessions: { describe: "sessions", define: defineSessionsCommands },
  gateway: { describe: "gateway", define: defineGatewayCommands },
  devices: { describe: "devices", define: defineDevicesCommands },
} as const;

type GroupName = keyof typeof GROUPS;

function isGroup(value: string | undefined): value is GroupName {
  return value !== undefined && Object.hasOwn(GROUPS, value);
}

/** Options placed before the command that take a value (`--state-dir x sessions list`). */
const LEADING_VALUE_OPTIONS = new Set(["--state-dir", "--config"]);

/** Where the first word that is not an option is, or -1. */
function firstWordIndex(argv: readonly string[]): number {
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (arg === "--") return -1;
    if (LEADING_VALUE_OPTIONS.has(arg)) index += 1;
    else if (!arg.startsWith("-")) return index;
  }
  return -1;
}

/**
 * Writes `--name -1` as `--name=-1` for options that take a value: the parser would read `-1` as
 * a short option ("Unknown option `-1`") instead of as the value, whose check then names the flag
 * and what it accepts.
 */
function joinNegativeValues(argv: readonly string[], valueOptions: ReadonlySet<string>): string[] {
  const joined: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    const next = argv[index + 1];
    if (arg === "--") {
      joined.push(...argv.slice(index));
      break;
    }
    if (valueOptions.has(arg) && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      index += 1;
    } else joined.push(arg);
  }
  return joined;
}

/** Parses argv with cac; help and version are written through `writeOutput`. */
function parseArgv(
  argv: readonly string[],
  writeOutput: (text: string) => void,
  options: { json: boolean; state: ParseState },
): Parsed {
  const { json, state } = options;
  const at = firstWordIndex(argv);
  const first = at === -1 ? undefined : argv[at];
  const group = isGroup(first) ? first : undefined;
  const name = group === undefined ? NAME : `${NAME} ${group}`;
  const rest = group === undefined ? argv : [...argv.slice(0, at), ...argv.slice(at + 1)];
  const cli = cac(name);
  let selected: PendingCommand | undefined;
  const select = (command: PendingCommand) => {
    selected = command;
  };
  if (group === undefined) defineTopCommands(cli, rest, select);
  else GROUPS[group].define(cli, rest, select);
  addGlobalOptions(cli);
  cli.help();
  cli.version(CLI_VERSION);
  state.helpCommand = `${name} --help`;
  const wordAt = firstWordIndex(rest);
  const word = wordAt === -1 ? undefined : rest[wordAt];
  const named = cli.commands.find((command) => command.name === word);
  if (named !== undefined && !isGroup(named.name))
    state.helpCommand = `${name} ${named.name} --help`;
  const valueOptions = new Set(
    [...cli.globalCommand.options, ...cli.commands.flatMap((command) => command.options)]
      .filter((option) => !option.isBoolean)
      .flatMap((option) => option.names.map((optionName) => `--${kebabCase(optionName)}`)),
  );

  const originalInfo = console.info;
  // cac prints help and the version with console.info; they belong on our stdout.
  console.info = (...parts: unknown[]) => writeOutput(`${parts.map(String).join(" ")}\n`);
  try {
    const parsed = cli.parse(["node", name, ...joinNegativeValues(rest, valueOptions)], {
      run: false,
    });
    if (parsed.options.help === true || parsed.options.version === true)
      return { command: undefined };
    const commandName = cli.matchedCommandName;
    if (
      cli.matchedCommand === undefined ||
      (group === undefined && commandName !== undefined && isGroup(commandName))
    ) {
      const wanted = parsed.args[0];
      if (wanted === undefined) {
        // Under --json stdout holds the error document only.
        if (!json) cli.outputHelp();
        throw usageError(group === undefined ? "no command given" : `no ${group} command given`);
      }
      throw usageError(
        `unknown command: ${group === undefined ? "" : `${group} `}${String(wanted)}`,
      );
    }
    cli.runMatchedCommand();
  } catch (error) {
    // cac does not export its error class; its usage errors are recognised by name.
    if (error instanceof Error && error.name === "CACError") throw usageError(error.message);
    throw error;
  } finally {
    console.info = originalInfo;
  }
  if (selected === undefined) throw usageError("no command given");
  return { command: selected };
}

/** `maxEntries` → `max-entries`: cac keeps option names in camelCase. */
function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function isFlagSet(argv: readonly string[], name: string): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes(`--${name}`);
}

/**
 * Runs `clawkeep` with `argv` (without `node` and the script) and resolves with the exit code:
 * 0 done, 1 failed, 2 bad usage. With `--json`, stdout receives exactly one JSON document
 * (including `stateDir`), also for errors; otherwise the state dir is named on stderr.
 */
export async function runCli(
  argv: readonly string[],
  options: RunCliOptions = {},
): Promise<number> {
  const env = options.env ?? process.env;
  const writeOutput = options.writeOutput ?? ((text: string) => process.stdout.write(text));
  const writeError = options.writeError ?? ((text: string) => process.stderr.write(text));
  const tty = options.tty ?? {
    stdin: process.stdin.isTTY === true,
    stdout: process.stdout.isTTY === true,
    stderr: process.stderr.isTTY === true,
  };
  const json = isFlagSet(argv, "json");
  const debug = isFlagSet(argv, "debug");
  const style = createOutputStyle(!json && shouldUseColor(tty.stdout, env));
  const errorStyle = createOutputStyle(shouldUseColor(tty.stderr, env));
  let stateDir: string | undefined;
  const parseState: ParseState = { helpCommand: usageHint(argv) };

  const fail = (error: unknown): ExitCode => {
    const exitCode = isUsageError(error) ? EXIT_CODES.USAGE : EXIT_CODES.FAILURE;
    const message = describeError(error, {
      usageHint: wantsHelpHint(error) ? parseState.helpCommand : undefined,
    });
    writeError(`${errorStyle.red(`${NAME}: error:`)} ${message}\n`);
    if (debug && error instanceof Error && error.stack !== undefined)
      writeError(`${error.stack}\n`);
    if (json) {
      const ownCode = (error as { code?: unknown } | null)?.code;
      const code = SessionsError.isInstance(error)
        ? error.code
        : typeof ownCode === "string"
          ? ownCode
          : "UNEXPECTED";
      writeOutput(
        `${JSON.stringify({ ok: false, ...(stateDir !== undefined && { stateDir }), error: { code, message, exitCode } }, null, 2)}\n`,
      );
    }
    return exitCode;
  };

  // Resolved before parsing, so that even a usage error under --json names the state dir.
  const { resolveStateDirWithSource, expandHomePath } = await import("@clawkeep/store");
  const flagStateDir = rawOptionValue(argv, "state-dir");
  const resolved =
    flagStateDir === undefined
      ? resolveStateDirWithSource({ env })
      : { stateDir: expandHomePath(flagStateDir, { env }), source: "--state-dir" };
  stateDir = resolved.stateDir;

  let parsed: Parsed;
  try {
    parsed = parseArgv(argv, writeOutput, { json, state: parseState });
  } catch (error) {
    return fail(error);
  }
  if (parsed.command === undefined) return EXIT_CODES.OK;

  let progressOpen = false;
  try {
    if (!json)
      writeError(`${errorStyle.dim(`${NAME}: state dir ${stateDir} (${resolved.source})`)}\n`);
    const configPath = rawOptionValue(argv, "config");
    if (configPath !== undefined) await assertConfigFileExists(expandHomePath(configPath, { env }));
    let config: Promise<SessionsConfig> | undefined;
    const showProgress = tty.stderr && !json;
    const context: CommandContext = {
      env,
      stateDir,
      json,
      yes: isFlagSet(argv, "yes") || argv.includes("-y"),
      interactive: tty.stdin && tty.stderr,
      progress: (text) => {
        if (!showProgress) return;
        progressOpen = true;
        writeError(`\r\u001b[2K${text}`);
      },
      endProgress: () => {
        if (!progressOpen) return;
        progressOpen = false;
        writeError("\r\u001b[2K");
      },
      note: (line) => writeError(`${line}\n`),
      stderrStyle: errorStyle,
      ask: async (question) => {
        const prompt = createInterface({ input: process.stdin, output: process.stderr });
        try {
          const answer = await prompt.question(`${question} [y/N] `);
          return /^y(es)?$/i.test(answer.trim());
        } finally {
          prompt.close();
        }
      },
      loadConfig: () => {
        config ??= (async () => {
          const { loadSessionsConfig } = await import("@clawkeep/session-utils");
          const loaded = await loadSessionsConfig({
            stateDir: resolved.stateDir,
            env,
            ...(configPath !== undefined && { configPath: expandHomePath(configPath, { env }) }),
          });
          return loaded.config;
        })();
        return config;
      },
    };
    const result = await parsed.command(context);
    context.endProgress();
    if (json) writeOutput(`${JSON.stringify({ stateDir, ...result.data }, null, 2)}\n`);
    else {
      const text = result.render(style);
      if (text !== "") writeOutput(`${text}\n`);
    }
    return result.exitCode;
  } catch (error) {
    if (progressOpen) writeError("\n");
    return fail(error);
  }
}

/**
 * An explicitly given `--config` must name a file: a typo would otherwise run everything on
 * the defaults without a word. (A default path that does not exist just means no config.)
 */
async function assertConfigFileExists(path: string): Promise<void> {
  try {
    if ((await stat(path)).isFile()) return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
  }
  throw usageError(`no config file at ${path} (given with --config)`, { help: false });
}

function usageHint(argv: readonly string[]): string {
  const at = firstWordIndex(argv);
  const first = at === -1 ? undefined : argv[at];
  return isGroup(first) ? `${NAME} ${first} --help` : `${NAME} --help`;
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

/**
 * Sets the exit code and lets pending clean-up (a lock release after a failed write) finish; a
 * handle left open by a library cannot keep a finished command alive for more than a second.
 */
export function exitWhenDone(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1000).unref();
}

if (isEntryPoint()) exitWhenDone(await runCli(process.argv.slice(2)));
