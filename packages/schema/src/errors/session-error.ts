/**
 * Every failure a caller or user can reach carries one of these codes. The gateway maps them to
 * openclaw's wire codes in one table; everything else only reads `code`.
 */
export const SESSION_ERROR_CODES = {
  /** Parameters or a patch failed validation; `details` names the field. */
  INVALID_PARAMS: "INVALID_PARAMS",
  /** No session matches the key, sessionId or label given. */
  SESSION_NOT_FOUND: "SESSION_NOT_FOUND",
  /** A session id, agent id or key does not follow the grammar. */
  INVALID_ID: "INVALID_ID",
  /** A path built from an id or a stored `sessionFile` would leave its directory. */
  PATH_ESCAPE: "PATH_ESCAPE",
  /** The store lock could not be taken before the timeout. */
  STORE_LOCKED: "STORE_LOCKED",
  /** The store lock was lost while held (its file was removed or touched by someone else). */
  STORE_LOCK_COMPROMISED: "STORE_LOCK_COMPROMISED",
  /** `sessions.json` is not valid JSON or not a JSON object; it is left untouched. */
  STORE_CORRUPT: "STORE_CORRUPT",
  /** Reading or writing a store or transcript failed at the file-system level. */
  STORE_IO: "STORE_IO",
  /** A transcript's lock could not be taken before the timeout. */
  TRANSCRIPT_LOCKED: "TRANSCRIPT_LOCKED",
  /** A transcript could not be parsed where a complete read was required. */
  TRANSCRIPT_CORRUPT: "TRANSCRIPT_CORRUPT",
  /** The target exists already and the operation refuses to overwrite it. */
  ALREADY_EXISTS: "ALREADY_EXISTS",
  /** A configuration value is invalid; `details.path` names the key path. */
  INVALID_CONFIG: "INVALID_CONFIG",
  /** The session is running and the operation must wait. */
  SESSION_ACTIVE: "SESSION_ACTIVE",
  /** An operation is not possible in the current state (for example a webchat client patching). */
  UNAVAILABLE: "UNAVAILABLE",
} as const;

export type SessionErrorCode = keyof typeof SESSION_ERROR_CODES;

const marker = Symbol.for("clawkeep.sessions-error");

export interface SessionsErrorOptions {
  /** Structured facts for callers and logs, such as `{ path }` or `{ field }`. */
  details?: Record<string, unknown>;
  /** The lower-level error this one explains. */
  cause?: unknown;
}

/**
 * The one error class of clawkeep. Its message names the key or path involved; `code` is what
 * callers branch on. Use {@link SessionsError.isInstance} rather than `instanceof`, which fails when
 * two copies of this package are installed.
 */
export class SessionsError extends Error {
  readonly code: SessionErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly [marker] = true;

  constructor(code: SessionErrorCode, message: string, options: SessionsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SessionsError";
    this.code = code;
    this.details = options.details;
  }

  static isInstance(value: unknown): value is SessionsError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { [marker]?: unknown })[marker] === true
    );
  }

  /** True when `value` is a SessionsError with the given code. */
  static hasCode(value: unknown, code: SessionErrorCode): value is SessionsError {
    return SessionsError.isInstance(value) && value.code === code;
  }
}
