import type { SessionsConfig } from "@clawkeep/session-utils";
import type { Env } from "@clawkeep/store";
import { EXIT_CODES, type ExitCode } from "./exit-codes.ts";
import type { OutputStyle } from "./output-style.ts";
import { usageError } from "./usage-error.ts";

/** What a command handler returns: data for `--json`, and how to show it to a person. */
export interface CommandResult<T extends object = object> {
  data: T;
  exitCode: ExitCode;
  /** Human output for stdout (without a trailing newline); pure, called only without `--json`. */
  render: (style: OutputStyle) => string;
}

/** What every command handler gets from the entry. */
export interface CommandContext {
  env: Env;
  /** The state dir in use (from `--state-dir` or the environment). */
  stateDir: string;
  /** `--json`: the entry prints one JSON document; handlers must not write to stdout. */
  json: boolean;
  /** `--yes`: destructive commands proceed without asking. */
  yes: boolean;
  /** stdin and stderr are terminals, so a question can be asked. */
  interactive: boolean;
  /** Shows progress of long work on a terminal (stderr); a no-op otherwise. */
  progress: (text: string) => void;
  /** Ends a progress line so that later output starts on a fresh line. */
  endProgress: () => void;
  /** Writes a note to stderr (never to stdout). */
  note: (line: string) => void;
  /** How text for stderr is styled: colours only when stderr is a terminal. */
  stderrStyle: OutputStyle;
  /** Asks a yes/no question on the terminal. */
  ask: (question: string) => Promise<boolean>;
  /** The sessions config (`--config`, else the environment, else `<stateDir>/openclaw.json`). */
  loadConfig: () => Promise<SessionsConfig>;
}

export interface ConfirmActionOptions {
  /**
   * What will be done, shown on stderr before the question (the dry run's list), so that the
   * answer is given knowing it. Shown only when the question is asked.
   * @default nothing
   */
  preview?: string;
}

/**
 * Gets the go-ahead for a destructive action: `--yes`, or a "y" typed on the terminal. Resolves
 * false when the question was answered no: the caller then changes nothing and reports it (exit
 * 0, as nothing failed). Without a terminal and without `--yes` it refuses (bad usage) rather
 * than guess.
 */
export async function confirmAction(
  context: CommandContext,
  question: string,
  options: ConfirmActionOptions = {},
): Promise<boolean> {
  if (context.yes) return true;
  if (!context.interactive) {
    throw usageError(
      `${question.replace(/\?$/, "")}: refused without confirmation (stdin is not a terminal); pass --yes to proceed`,
    );
  }
  if (options.preview !== undefined && options.preview !== "") context.note(options.preview);
  return await context.ask(question);
}

/** The line a command prints when its confirmation was declined. */
const CANCELLED_MESSAGE = "Cancelled: nothing changed.";

/** What a command returns when its confirmation was declined: `data` marked cancelled, exit 0. */
export function cancelledResult<T extends object>(data: T): CommandResult<T & { cancelled: true }> {
  return {
    data: { ...data, cancelled: true },
    exitCode: EXIT_CODES.OK,
    render: () => CANCELLED_MESSAGE,
  };
}
