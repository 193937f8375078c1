import { SessionsError } from "@clawkeep/schema";

/** What to do next, by error code, appended to the one-line message. */
const HINTS: Partial<Record<string, string>> = {
  STORE_CORRUPT:
    "run `clawkeep doctor` to inspect it and `clawkeep doctor --fix` to move it aside and restore the newest backup",
  STORE_LOCKED:
    "another process is writing the store; try again, or run `clawkeep doctor` to see who holds the lock",
  STORE_LOCK_COMPROMISED: "the store lock was taken away while writing; try again",
  TRANSCRIPT_LOCKED: "an agent run is writing the transcript; try again when it has finished",
  SESSION_NOT_FOUND: "see the keys with `clawkeep sessions list`",
  SESSION_ACTIVE: "the session is running; try again in a moment",
  INVALID_CONFIG: "fix the config file, or pass another one with --config",
  CLIENT_CONNECT_FAILED: "is the gateway running at that address? start it with `clawkeep-gateway`",
  CLIENT_CLOSED: "the gateway closed the connection; check its log",
  CLIENT_TIMEOUT: "the gateway did not answer in time; try again or raise --timeout",
};

function codeOf(error: unknown): string | undefined {
  if (SessionsError.isInstance(error)) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export interface DescribeErrorOptions {
  /** The help command to name for a usage error. */
  usageHint: string | undefined;
}

/**
 * One line for any error: what went wrong (the message names the file or key), and what to do.
 * File-system errors keep their path; anything unexpected says how to see the details.
 */
export function describeError(error: unknown, options: DescribeErrorOptions): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(
    /\s*\n\s*/g,
    " ",
  );
  if (options.usageHint !== undefined) return `${message} (see \`${options.usageHint}\`)`;
  const code = codeOf(error);
  const hint = code === undefined ? undefined : HINTS[code];
  if (hint !== undefined) return `${message}; ${hint}`;
  if (
    SessionsError.isInstance(error) ||
    (code !== undefined && /^[A-Z_]+$/.test(code) && !code.startsWith("E"))
  ) {
    return message;
  }
  return `${message} (run again with --debug for details)`;
}
