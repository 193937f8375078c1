/**
 * Codes of failures the client detects itself. Errors the gateway sends keep the gateway's wire
 * code (`INVALID_REQUEST`, `NOT_PAIRED`, `UNAVAILABLE`, …) so callers can branch on them as the
 * protocol defines them.
 */
export const GATEWAY_CLIENT_ERROR_CODES = {
  /** The socket could not be opened (refused, DNS, TLS). */
  CLIENT_CONNECT_FAILED: "CLIENT_CONNECT_FAILED",
  /** The connection closed before the handshake or a call completed. */
  CLIENT_CLOSED: "CLIENT_CLOSED",
  /** The handshake or a call did not complete in time. */
  CLIENT_TIMEOUT: "CLIENT_TIMEOUT",
  /** The gateway answered with something that is not protocol v3. */
  CLIENT_PROTOCOL: "CLIENT_PROTOCOL",
} as const;

export type GatewayClientErrorCode = keyof typeof GATEWAY_CLIENT_ERROR_CODES;

const marker = Symbol.for("clawkeep.gateway-client-error");

export interface GatewayClientErrorOptions {
  /** The wire error's `details` (for example `{ requestId }` with `NOT_PAIRED`). */
  details?: unknown;
  retryable?: boolean;
  retryAfterMs?: number;
  /** The close code, when the connection closed. */
  closeCode?: number;
  /** The close reason, when the connection closed. */
  closeReason?: string;
  cause?: unknown;
}

/**
 * The one error class of the client. It is separate from `SessionsError` because its `code`
 * speaks the wire's vocabulary (or one of {@link GATEWAY_CLIENT_ERROR_CODES}), not clawkeep's
 * session error codes. Recognise it with {@link GatewayClientError.isInstance}.
 */
export class GatewayClientError extends Error {
  /** A wire error code sent by the gateway, or a {@link GatewayClientErrorCode}. */
  readonly code: string;
  readonly details: unknown;
  readonly retryable: boolean | undefined;
  readonly retryAfterMs: number | undefined;
  readonly closeCode: number | undefined;
  readonly closeReason: string | undefined;
  readonly [marker] = true;

  constructor(code: string, message: string, options: GatewayClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayClientError";
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.closeCode = options.closeCode;
    this.closeReason = options.closeReason;
  }

  static isInstance(value: unknown): value is GatewayClientError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { [marker]?: unknown })[marker] === true
    );
  }
}
