import type { SessionsListResult, SessionsListWarning } from "@clawkeep/schema";

/**
 * Largest serialised `sessions.list` payload by default: 4 MiB, half the 8 MiB frames this
 * gateway accepts and far below the 25 MiB at which openclaw's client drops the connection (a
 * full listing of 50k sessions is about 42 MB).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** `warnings[].code` of a listing cut short to fit the response size. */
export const RESPONSE_TRUNCATED_WARNING = "RESPONSE_TRUNCATED";

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), "utf8");
}

/**
 * How many of `result.sessions` fit in `maxBytes` once serialised with the rest of the payload
 * (always at least one, so that paging with `nextOffset` moves on). Rows are measured one by one
 * and measuring stops at the first row that does not fit, so a 50k-row result costs the
 * serialisation of one frame's worth of rows.
 */
export function countRowsThatFit(
  result: SessionsListResult,
  maxBytes: number,
  reserveBytes = 0,
): number {
  // The envelope: everything but the rows, plus room for the truncation warning and a longer
  // `count`/`nextOffset` than the current ones.
  let used = jsonBytes({ ...result, sessions: [] }) + 512 + reserveBytes;
  let fitting = 0;
  for (const row of result.sessions) {
    used += jsonBytes(row) + 1;
    if (used > maxBytes && fitting > 0) break;
    fitting += 1;
  }
  return fitting;
}

/**
 * Cuts a listing to its first `keep` rows, with `count` and `nextOffset` following and a warning
 * that says how to go on. `offset` is where the page started; `requested` is how many rows the
 * page had before an earlier sizing pass shortened it (default: the rows of `result`).
 */
export function truncateListResult(
  result: SessionsListResult,
  keep: number,
  offset: number,
  maxBytes: number,
  requested = result.sessions.length,
): SessionsListResult {
  const sessions = keep < result.sessions.length ? result.sessions.slice(0, keep) : result.sessions;
  if (sessions.length >= requested) return result;
  // Nothing was cut here and the listing ended: the store shrank between the two passes.
  if (sessions === result.sessions && result.nextOffset === null) return result;
  const nextOffset = offset + sessions.length;
  const warning: SessionsListWarning = {
    code: RESPONSE_TRUNCATED_WARNING,
    message:
      `returned ${sessions.length} of ${requested} rows to stay under ${maxBytes} bytes; ` +
      `continue with offset ${nextOffset}`,
  };
  return {
    ...result,
    count: sessions.length,
    sessions,
    nextOffset,
    warnings: [...(result.warnings ?? []), warning],
  };
}
