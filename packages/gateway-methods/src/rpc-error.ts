import { randomBytes } from "node:crypto";
import { ERROR_CODES, type SessionErrorCode, SessionsError } from "@clawkeep/schema";
import { type Logger, silentLogger } from "./logger.ts";

/** A wire error code (`INVALID_REQUEST`, `UNAVAILABLE`, …). */
export type RpcErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** The `error` object of a failed `res` frame. Absent keys are not sent. */
export interface RpcError {
  code: RpcErrorCode;
  message: string;
  details?: unknown;
  retryable?: boolean;
  retryAfterMs?: number;
}

interface WireMapping {
  code: RpcErrorCode;
  /** Set only where a retry can succeed without the caller changing anything. */
  retryable?: true;
}

const invalidRequest: WireMapping = { code: ERROR_CODES.INVALID_REQUEST };
const unavailable: WireMapping = { code: ERROR_CODES.UNAVAILABLE };
const unavailableRetryable: WireMapping = { code: ERROR_CODES.UNAVAILABLE, retryable: true };

/**
 * The one table from clawkeep's error codes to the wire. A caller's mistake is `INVALID_REQUEST`
 * (as every `sessions.*` error openclaw sends); a state the server is in is `UNAVAILABLE`, with
 * `retryable` where waiting is enough (a held lock, a running session). Typed as a full record so
 * that a new code cannot be added without deciding its wire form here.
 */
export const SESSION_ERROR_WIRE_CODES: Readonly<Record<SessionErrorCode, Readonly<WireMapping>>> =
  Object.freeze({
    INVALID_PARAMS: invalidRequest,
    SESSION_NOT_FOUND: invalidRequest,
    INVALID_ID: invalidRequest,
    PATH_ESCAPE: invalidRequest,
    ALREADY_EXISTS: invalidRequest,
    INVALID_CONFIG: invalidRequest,
    STORE_LOCKED: unavailableRetryable,
    STORE_LOCK_COMPROMISED: unavailableRetryable,
    STORE_IO: unavailable,
    STORE_CORRUPT: unavailable,
    TRANSCRIPT_LOCKED: unavailableRetryable,
    TRANSCRIPT_CORRUPT: unavailable,
    SESSION_ACTIVE: unavailableRetryable,
    UNAVAILABLE: unavailable,
  });

export interface ToRpcErrorOptions {
  /**
   * Receives the full error (with its stack) of anything that is not a `SessionsError`; the
   * client only sees a reference to find it in the log.
   * @default silentLogger
   */
  logger?: Logger;
  /** The method being served, for the log line. @default undefined */
  method?: string;
}

/**
 * Turns anything a handler threw into the wire error. A `SessionsError` keeps its message (it
 * names the key or path the caller gave) and gets its wire code from
 * {@link SESSION_ERROR_WIRE_CODES}. Anything else is a bug or an environment failure whose text
 * may leak internals, so the client gets `UNAVAILABLE` with a reference and the log gets the rest.
 * This is the only place that formats errors for the wire.
 */
export function toRpcError(error: unknown, options: ToRpcErrorOptions = {}): RpcError {
  if (SessionsError.isInstance(error)) {
    // A code from a newer schema than this table knows is a server state, not a caller mistake.
    const mapping = SESSION_ERROR_WIRE_CODES[error.code] ?? unavailable;
    const rpcError: RpcError = { code: mapping.code, message: error.message };
    if (mapping.retryable === true) rpcError.retryable = true;
    return rpcError;
  }
  const reference = randomBytes(4).toString("hex");
  const logger = options.logger ?? silentLogger;
  logger.error("method handler failed", {
    reference,
    method: options.method,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return { code: ERROR_CODES.UNAVAILABLE, message: `internal error (reference ${reference})` };
}
