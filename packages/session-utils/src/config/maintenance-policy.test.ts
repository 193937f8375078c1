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
});
