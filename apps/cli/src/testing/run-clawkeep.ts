import { spawn } from "node:child_process";
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

/** Runs the built `clawkeep` as a real process and collects its exit code and output. */
export async function runClawkeep(
  args: readonly string[],
  options: RunClawkeepOptions = {},
): Promise<ClawkeepRun> {
  if (!existsSync(CLI_MAIN)) {
    throw new Error(
      `${CLI_MAIN} is missing: run \`pnpm build\` (or \`pnpm test\`, which builds first)`,
    );
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(CLAWKEEP|OPENCLAW|CLAWDBOT)_/.test(name)) continue;
    if (name === "NO_COLOR" || name === "FORCE_COLOR") continue;
    env[name] = value;
  }
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: options.cwd,
    env: { ...env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.end(options.input ?? "");
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
