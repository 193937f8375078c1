import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The built CLI entry the process tests run (built by `pnpm build`, as `pnpm test` does first). */
export const CLI_MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

export interface ClawkeepRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunClawkeepOptions {
  cwd?: string;
  /** Added to a clean environment (no CLAWKEEP_/OPENCLAW_ variables of the machine). */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. @default "" */
  input?: string;
}

function assertBuilt(): void {
  if (!existsSync(CLI_MAIN)) {
    throw new Error(
      `${CLI_MAIN} is missing: run \`pnpm build\` (or \`pnpm test\`, which builds first)`,
    );
  }
}

/** The machine's environment without the variables that would steer or colour the CLI. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(CLAWKEEP|OPENCLAW|CLAWDBOT)_/.test(name)) continue;
    if (name === "NO_COLOR" || name === "FORCE_COLOR") continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs the built `clawkeep` as a real process and collects its exit code and output. */
export async function runClawkeep(
  args: readonly string[],
  options: RunClawkeepOptions = {},
): Promise<ClawkeepRun> {
  assertBuilt();
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  return await collect(child, options.input);
}

/** True when util-linux `script` can give a command a pseudo-terminal here. */
export function canRunInTerminal(): boolean {
  return (
    process.platform === "linux" &&
    spawnSync("script", ["-qfec", "true", "/dev/null"], { stdio: "ignore" }).status === 0
  );
}

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs the built `clawkeep` on a pseudo-terminal (util-linux `script`), so that stdin, stdout and
 * stderr are all terminals; `input` is typed into it. The terminal merges stdout and stderr into
 * `stdout` (with `\r\n` line ends). Check {@link canRunInTerminal} first.
 */
export async function runClawkeepInTerminal(
  args: readonly string[],
  options: RunClawkeepOptions = {},
): Promise<ClawkeepRun> {
  assertBuilt();
  const command = [process.execPath, CLI_MAIN, ...args].map(shellQuote).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  return await collect(child, options.input);
}

async function collect(
  child: ReturnType<typeof spawn>,
  input: string | undefined,
): Promise<ClawkeepRun> {
  if (child.stdout === null || child.stderr === null || child.stdin === null)
    throw new Error("the child's stdio must be pipes");
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.end(input ?? "");
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  return { code, stdout, stderr };
}

/** Parses stdout as the one JSON document `--json` promises; fails the test with the output if not. */
export function parseJsonOutput<T = Record<string, unknown>>(run: ClawkeepRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
