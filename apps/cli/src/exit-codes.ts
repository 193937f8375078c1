/** Exit codes of every `clawkeep` command. */
export const EXIT_CODES = {
  /** Done; for migrate: everything found was migrated or was already there. */
  OK: 0,
  /** Something failed: a session could not be migrated, doctor found problems, an error. */
  FAILURE: 1,
  /** Bad usage: unknown command or option, missing argument, invalid value, no confirmation. */
  USAGE: 2,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
