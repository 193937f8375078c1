import { describe, expect, it } from "vitest";
import { resolveSessionMaintenancePolicy } from "./maintenance-policy.ts";
import { parseSessionsConfig, type SessionsConfig } from "./sessions-config.ts";

function config(raw: unknown = {}): SessionsConfig {
  const result = parseSessionsConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

describe("resolveSessionMaintenancePolicy", () => {
  it("stays in warn mode by default and protects the agent's main session", () => {
    expect(
      resolveSessionMaintenancePolicy(config({ session: { mainKey: "work" } }), "ops"),
    ).toEqual({
      mode: "warn",
      pruneAfterMs: 30 * 86_400_000,
      maxEntries: 500,
      rotateBytes: 10 * 1024 * 1024,
      protectedKeys: ["agent:ops:work"],
    });
  });

  it("passes the configured values through the store's parser", () => {
    const cfg = config({
      session: {
        scope: "global",
        maintenance: { mode: "enforce", pruneAfter: "7d", maxEntries: 100, rotateBytes: "5mb" },
      },
    });
    expect(resolveSessionMaintenancePolicy(cfg)).toEqual({
      mode: "enforce",
      pruneAfterMs: 7 * 86_400_000,
      maxEntries: 100,
      rotateBytes: 5 * 1024 * 1024,
      protectedKeys: ["global"],
    });
  });

  it("falls back to the defaults for duration and size strings that do not parse", () => {
    const cfg = config({
      session: {
        maintenance: { mode: "enforce", pruneAfter: "soon", rotateBytes: "big", extra: 1 },
      },
    });
    expect(resolveSessionMaintenancePolicy(cfg)).toMatchObject({
      mode: "enforce",
      pruneAfterMs: 30 * 86_400_000,
      rotateBytes: 10 * 1024 * 1024,
    });
  });

  it("rejects a mode it does not know instead of falling back to warn", () => {
    expect(parseSessionsConfig({ session: { maintenance: { mode: "enforc" } } })).toEqual({
      ok: false,
      issues: [{ path: "session.maintenance.mode", message: 'expected "warn" | "enforce"' }],
    });
  });
});
