/**
 * Where the gateway and its methods report what a client must not see (stacks, paths of internal
 * failures). The gateway passes its own; the default drops everything, so a library user is never
 * surprised by output on stderr.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function ignore(): void {}

/** A logger that discards every message. */
export const silentLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});
