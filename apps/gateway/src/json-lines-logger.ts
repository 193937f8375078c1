import type { Logger } from "@clawkeep/gateway-methods";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface JsonLinesLoggerOptions {
  /** Also write debug messages (connections, handshake failures). @default false */
  verbose?: boolean;
  /** Receives every line, without its newline. @default writes to process.stderr */
  write?: (line: string) => void;
  /** The clock of each line's `ts` (epoch ms). @default Date.now */
  now?: () => number;
}

/** Keys every line starts with; a field of the same name cannot replace them. */
const RESERVED_KEYS = new Set(["ts", "level", "msg"]);

function jsonValue(value: unknown): unknown {
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  if (typeof value === "bigint") return value.toString();
  return value;
}

function encodable(value: unknown): unknown {
  try {
    JSON.stringify(value);
    return value;
  } catch {
    return String(value);
  }
}

/**
 * One log line: a JSON object `{ts, level, msg, …fields}` on a single line (JSON escapes every
 * newline a message or field holds). Undefined fields are left out; a field JSON cannot encode
 * (a cycle) is written as text rather than losing the line.
 */
export function formatLogLine(
  level: LogLevel,
  message: string,
  fields: Record<string, unknown> | undefined,
  ts: number,
): string {
  const record: Record<string, unknown> = { ts, level, msg: message };
  if (fields !== undefined) {
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined && !RESERVED_KEYS.has(key)) record[key] = jsonValue(value);
    }
  }
  try {
    return JSON.stringify(record);
  } catch {
    for (const key of Object.keys(record)) record[key] = encodable(record[key]);
    return JSON.stringify(record);
  }
}

/**
 * A logger writing one JSON object per line (JSON lines), for log collectors. What the gateway
 * logs never holds tokens or request params.
 */
export function createJsonLinesLogger(options: JsonLinesLoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const verbose = options.verbose === true;
  const log = (level: LogLevel, message: string, fields?: Record<string, unknown>) =>
    write(formatLogLine(level, message, fields, now()));
  return {
    debug: (message, fields) => {
      if (verbose) log("debug", message, fields);
    },
    info: (message, fields) => log("info", message, fields),
    warn: (message, fields) => log("warn", message, fields),
    error: (message, fields) => log("error", message, fields),
  };
}
