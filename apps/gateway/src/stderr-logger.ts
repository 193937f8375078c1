import type { Logger } from "@clawkeep/gateway-methods";

export interface StderrLoggerOptions {
  /** Also print debug messages (connections, handshake failures). @default false */
  verbose?: boolean;
  /** Where lines go. @default writes to process.stderr */
  write?: (line: string) => void;
}

function formatFields(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return "";
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    parts.push(`${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  return parts.length === 0 ? "" : ` ${parts.join(" ")}`;
}

/** A logger writing one `clawkeep-gateway: <level> <message> key=value…` line per message. */
export function createStderrLogger(options: StderrLoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const line = (level: string, message: string, fields?: Record<string, unknown>) =>
    write(`clawkeep-gateway: ${level} ${message}${formatFields(fields)}`);
  return {
    debug: (message, fields) => {
      if (options.verbose === true) line("debug", message, fields);
    },
    info: (message, fields) => line("info", message, fields),
    warn: (message, fields) => line("warn", message, fields),
    error: (message, fields) => line("error", message, fields),
  };
}
