import type { SessionEntry, SessionsResolveParams } from "@clawkeep/schema";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { parseSessionsConfig, type SessionsConfig } from "./config/sessions-config.ts";
import { resolveSessionKeyFromResolveParams } from "./resolve.ts";

function config(raw: unknown = {}): SessionsConfig {
  const result = parseSessionsConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

const storeFile = (agentId: string) => `agents/${agentId}/sessions/sessions.json`;

const mainStore: Record<string, SessionEntry> = {
  "agent:main:main": { sessionId: "sess-main", updatedAt: 40 },
  "agent:main:discord:group:dev": { sessionId: "sess-group", updatedAt: 30, label: "dev room" },
  "agent:main:subagent:one": {
    sessionId: "sess-sub",
    updatedAt: 20,
    spawnedBy: "agent:main:main",
    label: "Briefing",
  },
  global: { sessionId: "sess-global", updatedAt: 50, label: "Briefing" },
};

async function resolveWith(
  params: SessionsResolveParams,
  files: Record<string, object> = { [storeFile("main")]: mainStore },
  cfg: SessionsConfig = config(),
) {
  const stateDir = await testdir(files);
  return await resolveSessionKeyFromResolveParams({ cfg, params, stateDir, env: {} });
}

describe("resolveSessionKeyFromResolveParams: params", () => {
  it("needs exactly one of key, sessionId and label (#184)", async () => {
    expect(await resolveWith({ key: "main", label: "x" })).toEqual({
      ok: false,
      error: {
        code: "INVALID_PARAMS",
        message: "Provide either key, sessionId, or label (not multiple)",
      },
    });
    expect(await resolveWith({})).toEqual({
      ok: false,
      error: { code: "INVALID_PARAMS", message: "Either key, sessionId, or label is required" },
    });
    expect(await resolveWith({ key: "  ", sessionId: "sess-main" })).toEqual({
      ok: true,
      key: "agent:main:main",
    });
  });
});

describe("resolveSessionKeyFromResolveParams: by key", () => {
  it("resolves aliases to the canonical key (#159) and reports missing keys (#184)", async () => {
    expect(await resolveWith({ key: "main" })).toEqual({ ok: true, key: "agent:main:main" });
    expect(await resolveWith({ key: "nope" })).toEqual({
      ok: false,
      error: { code: "SESSION_NOT_FOUND", message: "No session found: nope" },
    });
  });

  it("resolves mixed-case key twins to one session", async () => {
    const files = {
      [storeFile("main")]: {
        "agent:main:Telegram:Direct:Ann": { sessionId: "new", updatedAt: 9 },
        "agent:main:telegram:direct:Ann": { sessionId: "old", updatedAt: 2 },
      },
    };
    for (const key of [
      "agent:main:TELEGRAM:direct:Ann",
      "telegram:Direct:Ann",
      "agent:main:telegram:direct:Ann",
    ]) {
      expect(await resolveWith({ key }, files)).toEqual({
        ok: true,
        key: "agent:main:telegram:direct:Ann",
      });
    }
    expect(await resolveWith({ key: "agent:main:telegram:direct:ann" }, files)).toMatchObject({
      ok: false,
    });
  });

  it("finds a key that only exists under a bare alias", async () => {
    const files = {
      [storeFile("main")]: { "discord:group:dev": { sessionId: "x", updatedAt: 1 } },
    };
    expect(await resolveWith({ key: "discord:group:dev" }, files)).toEqual({
      ok: true,
      key: "agent:main:discord:group:dev",
    });
  });

  it("resolves the key it lists for a session stored under a bare key", async () => {
    const files = {
      [storeFile("main")]: { "discord:group:dev": { sessionId: "x", updatedAt: 1, label: "dev" } },
      [storeFile("ops")]: { "agent:ops:discord:group:dev": { sessionId: "y", updatedAt: 2 } },
    };
    const listed = await resolveWith({ label: "dev" }, files);
    expect(listed).toEqual({ ok: true, key: "agent:main:discord:group:dev" });
    for (const key of ["agent:main:discord:group:dev", "AGENT:MAIN:Discord:Group:dev"]) {
      expect(await resolveWith({ key }, files)).toEqual(listed);
    }
    // Another agent's store does not hold main's bare keys.
    const opsOnly = {
      [storeFile("ops")]: { "discord:group:dev": { sessionId: "z", updatedAt: 3 } },
    };
    expect(await resolveWith({ key: "agent:main:discord:group:dev" }, opsOnly)).toMatchObject({
      ok: false,
      error: { code: "SESSION_NOT_FOUND" },
    });
  });

  it("throws for a corrupt store of the key's agent", async () => {
    const stateDir = await testdir({ [storeFile("main")]: "{" });
    await expect(
      resolveSessionKeyFromResolveParams({
        cfg: config(),
        params: { key: "main" },
        stateDir,
        env: {},
      }),
    ).rejects.toMatchObject({ code: "STORE_CORRUPT" });
  });
});

describe("resolveSessionKeyFromResolveParams: a corrupt store", () => {
  it("answers the store's error, naming it, when a session id or label is not found", async () => {
    const stateDir = await testdir({
      [storeFile("main")]: "{",
      [storeFile("ops")]: JSON.stringify({
        "agent:ops:x": { sessionId: "o", updatedAt: 1, label: "ops" },
      }),
    });
    const resolve = (params: SessionsResolveParams) =>
      resolveSessionKeyFromResolveParams({ cfg: config(), params, stateDir, env: {} });
    for (const params of [{ sessionId: "sess-main" }, { label: "dev" }]) {
      const result = await resolve(params);
      expect(result).toMatchObject({ ok: false, error: { code: "STORE_CORRUPT" } });
      expect(result.ok ? "" : result.error.message).toContain(storeFile("main"));
    }
    // What the readable stores hold is still found.
    expect(await resolve({ label: "ops" })).toEqual({ ok: true, key: "agent:ops:x" });
  });
});

describe("resolveSessionKeyFromResolveParams: by sessionId", () => {
  it("finds the session by its id (#160)", async () => {
    expect(await resolveWith({ sessionId: "sess-group" })).toEqual({
      ok: true,
      key: "agent:main:discord:group:dev",
    });
    expect(await resolveWith({ sessionId: "sess-missing" })).toEqual({
      ok: false,
      error: { code: "SESSION_NOT_FOUND", message: "No session found: sess-missing" },
    });
  });

  it("finds the exact id among 20 newer rows that contain it", async () => {
    const store: Record<string, SessionEntry> = {
      "agent:main:target": { sessionId: "abc", updatedAt: 1 },
    };
    for (let index = 0; index < 20; index += 1) {
      store[`agent:main:abc-${index}`] = { sessionId: `abc-${index}`, updatedAt: 100 + index };
    }
    expect(await resolveWith({ sessionId: "abc" }, { [storeFile("main")]: store })).toEqual({
      ok: true,
      key: "agent:main:target",
    });
  });

  it("reports several sessions with one id, across agents", async () => {
    const files = {
      [storeFile("main")]: { "agent:main:a": { sessionId: "dup", updatedAt: 2 } },
      [storeFile("ops")]: { b: { sessionId: "dup", updatedAt: 1 } },
    };
    expect(await resolveWith({ sessionId: "dup" }, files)).toEqual({
      ok: false,
      error: {
        code: "INVALID_PARAMS",
        message: "Multiple sessions found for sessionId: dup (agent:main:a, agent:ops:b)",
      },
    });
    expect(await resolveWith({ sessionId: "dup", agentId: "Ops" }, files)).toEqual({
      ok: true,
      key: "agent:ops:b",
    });
  });

  it("includes global only when asked", async () => {
    expect(await resolveWith({ sessionId: "sess-global" })).toMatchObject({ ok: false });
    expect(await resolveWith({ sessionId: "sess-global", includeGlobal: true })).toEqual({
      ok: true,
      key: "global",
    });
  });
});

describe("resolveSessionKeyFromResolveParams: by label", () => {
  it("finds a unique label and reports ambiguity (#169)", async () => {
    expect(await resolveWith({ label: "Briefing", agentId: "main" })).toEqual({
      ok: true,
      key: "agent:main:subagent:one",
    });
    expect(await resolveWith({ label: "Briefing", includeGlobal: true })).toEqual({
      ok: false,
      error: {
        code: "INVALID_PARAMS",
        message: "Multiple sessions found with label: Briefing (global, agent:main:subagent:one)",
      },
    });
    expect(await resolveWith({ label: " dev room ", spawnedBy: "agent:main:main" })).toEqual({
      ok: false,
      error: { code: "SESSION_NOT_FOUND", message: "No session found with label: dev room" },
    });
  });

  it("rejects a label that is too long", async () => {
    expect(await resolveWith({ label: "x".repeat(65) })).toEqual({
      ok: false,
      error: { code: "INVALID_PARAMS", message: "invalid label: too long (max 64)" },
    });
  });
});
