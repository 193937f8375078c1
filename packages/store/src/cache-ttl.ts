import type { Env } from "./paths.ts";

/** How long a loaded store is served from memory without looking at the disk: 45 s. */
export const DEFAULT_SESSION_CACHE_TTL_MS = 45_000;

function parseTtl(value: string): number {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed)) return DEFAULT_SESSION_CACHE_TTL_MS;
  const parsed = Number(trimmed);
  return Number.isSafeInteger(parsed) ? parsed : DEFAULT_SESSION_CACHE_TTL_MS;
}

/**
 * The store cache TTL from `CLAWKEEP_SESSION_CACHE_TTL_MS`, else `OPENCLAW_SESSION_CACHE_TTL_MS`:
 * an integer ≥ 0 in milliseconds, `0` disables the cache, anything else means the default
 * (45 000). Read on every load, so a changed environment applies at once.
 */
export function resolveSessionCacheTtlMs(env: Env = process.env): number {
  for (const name of ["CLAWKEEP_SESSION_CACHE_TTL_MS", "OPENCLAW_SESSION_CACHE_TTL_MS"]) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") return parseTtl(value);
  }
  return DEFAULT_SESSION_CACHE_TTL_MS;
}
