import { migrateLegacySessionEntry, SessionsError } from "@clawkeep/schema";
import {
  deepFreeze,
  findJsonErrorOffset,
  isJsonObject,
  positionOfOffset,
  setOwnProperty,
} from "./json-utils.ts";
import type { SessionStoreSnapshot } from "./session-store-backend.ts";

function describeJsonValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function corruptError(storePath: string, text: string, error: unknown): SessionsError {
  const message = (error as Error).message;
  const reported = /at position (\d+)/.exec(message);
  const offset = reported !== null ? Number(reported[1]) : findJsonErrorOffset(text);
  const where =
    offset === undefined ? undefined : positionOfOffset(text, Math.min(offset, text.length));
  const at = where === undefined ? "" : ` at line ${where.line}, column ${where.column}`;
  return new SessionsError(
    "STORE_CORRUPT",
    `corrupt session store ${storePath}: invalid JSON${at} (${message}); the file is left untouched`,
    { details: { path: storePath, ...where }, cause: error },
  );
}

/**
 * Parses the bytes of a store file into a frozen snapshot: each entry is migrated from legacy
 * field names (a new object only when something was renamed) and frozen; everything else,
 * including key order and unknown fields, stays as it was. Throws `STORE_CORRUPT` naming the
 * path and the line and column when the text is not JSON or not a JSON object.
 */
export function parseStoreBytes(
  storePath: string,
  bytes: Buffer,
): { snapshot: SessionStoreSnapshot; keys: string[] } {
  let text = bytes.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "") {
    throw new SessionsError(
      "STORE_CORRUPT",
      `corrupt session store ${storePath}: the file is empty; the file is left untouched`,
      { details: { path: storePath } },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corruptError(storePath, text, error);
  }
  if (!isJsonObject(parsed)) {
    throw new SessionsError(
      "STORE_CORRUPT",
      `corrupt session store ${storePath}: expected a JSON object, found ${describeJsonValue(parsed)}; the file is left untouched`,
      { details: { path: storePath } },
    );
  }
  const keys = Object.keys(parsed);
  for (const key of keys) {
    const entry = parsed[key];
    if (isJsonObject(entry)) {
      const migrated = migrateLegacySessionEntry(entry as never);
      if (migrated !== entry) setOwnProperty(parsed, key, migrated);
      deepFreeze(migrated);
    } else {
      deepFreeze(entry);
    }
  }
  return { snapshot: Object.freeze(parsed) as SessionStoreSnapshot, keys };
}
