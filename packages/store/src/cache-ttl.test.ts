import { describe, expect, it } from "vitest";
import { DEFAULT_SESSION_CACHE_TTL_MS, resolveSessionCacheTtlMs } from "./cache-ttl.ts";

describe("resolveSessionCacheTtlMs", () => {
  it("prefers CLAWKEEP_, falls back to OPENCLAW_, then to 45 s", () => {
    expect(resolveSessionCacheTtlMs({})).toBe(DEFAULT_SESSION_CACHE_TTL_MS);
    expect(resolveSessionCacheTtlMs({ OPENCLAW_SESSION_CACHE_TTL_MS: "1000" })).toBe(1000);
    expect(
      resolveSessionCacheTtlMs({
        CLAWKEEP_SESSION_CACHE_TTL_MS: "0",
        OPENCLAW_SESSION_CACHE_TTL_MS: "1000",
      }),
    ).toBe(0);
    expect(
      resolveSessionCacheTtlMs({
        CLAWKEEP_SESSION_CACHE_TTL_MS: " ",
        OPENCLAW_SESSION_CACHE_TTL_MS: "7",
      }),
    ).toBe(7);
  });

  it("treats anything but a non-negative integer as the default", () => {
    for (const value of ["-1", "1.5", "abc", "1e3", "99999999999999999999"]) {
      expect(resolveSessionCacheTtlMs({ CLAWKEEP_SESSION_CACHE_TTL_MS: value })).toBe(45_000);
    }
  });
});
