import { SessionsError } from "@clawkeep/schema";

export interface UsageErrorOptions {
  /**
   * Point to `--help` in the message: true for mistakes in the command line itself, false for a
   * value the operation refused (an invalid level, the main session).
   * @default true
   */
  help?: boolean;
}

/**
 * A mistake in how the command was called (exit code 2). It is a `SessionsError` with code
 * `INVALID_PARAMS` and `details.usage`, so the entry can tell it from failures of the work itself.
 */
export function usageError(message: string, options: UsageErrorOptions = {}): SessionsError {
  return new SessionsError("INVALID_PARAMS", message, {
    details: { usage: true, help: options.help ?? true },
  });
}

/** True for an error made by {@link usageError}. */
export function isUsageError(error: unknown): boolean {
  return SessionsError.isInstance(error) && error.details?.usage === true;
}

/** True for a usage error whose message should point to `--help`. */
export function wantsHelpHint(error: unknown): boolean {
  return isUsageError(error) && (error as SessionsError).details?.help !== false;
}
