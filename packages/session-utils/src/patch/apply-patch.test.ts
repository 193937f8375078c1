import type { SessionEntry } from "@clawkeep/schema";
import { describe, expect, it } from "vitest";
import { parseSessionsConfig, type SessionsConfig } from "../config/sessions-config.ts";
import { resolveGatewaySessionStoreTarget } from "../keys/store-target.ts";
import {
  type ApplySessionsPatchResult,
  applySessionsPatch,
  type SessionsPatch,
} from "./apply-patch.ts";
import { applySessionsPatchToStore } from "./apply-patch-to-store.ts";

function config(raw: unknown = {}): SessionsConfig {
  const result = parseSessionsConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

const NOW = 1_770_000_000_000;
const cfg = config();

function patch(
  patchFields: SessionsPatch,
  // null: no entry yet (undefined would pick the default).
  entry: SessionEntry | null = { sessionId: "s1", updatedAt: 100 },
  options: { key?: string; cfg?: SessionsConfig; taken?: string[] } = {},
): ApplySessionsPatchResult {
  return applySessionsPatch(entry ?? undefined, patchFields, {
    cfg: options.cfg ?? cfg,
    key: options.key ?? "agent:main:main",
    now: () => NOW,
    randomUUID: () => "new-uuid",
    isLabelTaken: (label) => (options.taken ?? []).includes(label),
  });
}

function ok(result: ApplySessionsPatchResult): SessionEntry {
  if (!result.ok) throw new Error(`patch rejected: ${result.error.message}`);
  return result.entry;
}

function failure(result: ApplySessionsPatchResult): { code: string; message: string } {
  if (result.ok) throw new Error("patch accepted");
  return result.error;
}

describe("applySessionsPatch: levels", () => {
  it("stores elevatedLevel off instead of clearing it (#142-#145)", () => {
    expect(ok(patch({ elevatedLevel: "off" }, null)).elevatedLevel).toBe("off");
    expect(ok(patch({ elevatedLevel: "on" })).elevatedLevel).toBe("on");
    const cleared = ok(
      patch({ elevatedLevel: null }, { sessionId: "s", updatedAt: 1, elevatedLevel: "off" }),
    );
    expect(cleared).not.toHaveProperty("elevatedLevel");
    expect(ok(patch({ elevatedLevel: "Approve" })).elevatedLevel).toBe("ask");
    expect(ok(patch({ elevatedLevel: "auto-approve" })).elevatedLevel).toBe("full");
    const error = failure(patch({ elevatedLevel: "maybe" }));
    expect(error.code).toBe("INVALID_PARAMS");
    expect(error.message).toBe('invalid elevatedLevel (use "on"|"off"|"ask"|"full")');
  });

  it("stores thinkingLevel off, clears it with null, maps aliases (#147)", () => {
    expect(ok(patch({ thinkingLevel: "off" })).thinkingLevel).toBe("off");
    const cleared = ok(
      patch({ thinkingLevel: null }, { sessionId: "s", updatedAt: 1, thinkingLevel: "low" }),
    );
    expect(cleared).not.toHaveProperty("thinkingLevel");
    expect(ok(patch({ thinkingLevel: " ULTRATHINK " })).thinkingLevel).toBe("high");
    expect(ok(patch({ thinkingLevel: "think" })).thinkingLevel).toBe("minimal");
    expect(ok(patch({ thinkingLevel: "on" })).thinkingLevel).toBe("low");
    expect(ok(patch({ thinkingLevel: "harder" })).thinkingLevel).toBe("medium");
    expect(failure(patch({ thinkingLevel: "banana" })).message).toBe(
      "invalid thinkingLevel (use off|minimal|low|medium|high)",
    );
  });

  it("lists xhigh in the hint for xhigh models and off|on for z.ai", () => {
    const openai = {
      sessionId: "s",
      updatedAt: 1,
      providerOverride: "openai",
      modelOverride: "gpt-5.2",
    };
    expect(failure(patch({ thinkingLevel: "banana" }, openai)).message).toBe(
      "invalid thinkingLevel (use off|minimal|low|medium|high|xhigh)",
    );
    const zai = { sessionId: "s", updatedAt: 1, providerOverride: "zai", modelOverride: "glm-4.7" };
    expect(failure(patch({ thinkingLevel: "banana" }, zai)).message).toBe(
      "invalid thinkingLevel (use off|on)",
    );
  });

  it("removes reasoningLevel for every spelling of off (#148)", () => {
    const current = { sessionId: "s", updatedAt: 1, reasoningLevel: "on" };
    expect(ok(patch({ reasoningLevel: "off" }, current))).not.toHaveProperty("reasoningLevel");
    expect(ok(patch({ reasoningLevel: "hidden" }, current))).not.toHaveProperty("reasoningLevel");
    expect(ok(patch({ reasoningLevel: "stream" })).reasoningLevel).toBe("stream");
    expect(ok(patch({ reasoningLevel: "show" })).reasoningLevel).toBe("on");
    expect(failure(patch({ reasoningLevel: "loud" })).message).toBe(
      'invalid reasoningLevel (use "on"|"off"|"stream")',
    );
  });

  it("stores responseUsage on as tokens and removes off (#149)", () => {
    expect(ok(patch({ responseUsage: "on" })).responseUsage).toBe("tokens");
    expect(ok(patch({ responseUsage: "full" })).responseUsage).toBe("full");
    const current = { sessionId: "s", updatedAt: 1, responseUsage: "full" as const };
    expect(ok(patch({ responseUsage: "off" }, current))).not.toHaveProperty("responseUsage");
    expect(ok(patch({ responseUsage: null }, current))).not.toHaveProperty("responseUsage");
  });

  it("maps verboseLevel words and does not trim (#150)", () => {
    expect(ok(patch({ verboseLevel: "all" })).verboseLevel).toBe("full");
    expect(ok(patch({ verboseLevel: "YES" })).verboseLevel).toBe("on");
    expect(ok(patch({ verboseLevel: "0" })).verboseLevel).toBe("off");
    expect(failure(patch({ verboseLevel: " on " })).message).toBe(
      'invalid verboseLevel (use "on"|"off")',
    );
  });

  it("normalises exec settings (#151)", () => {
    expect(ok(patch({ execHost: " Gateway " })).execHost).toBe("gateway");
    expect(ok(patch({ execSecurity: "ALLOWLIST" })).execSecurity).toBe("allowlist");
    expect(ok(patch({ execAsk: "on-miss" })).execAsk).toBe("on-miss");
    expect(ok(patch({ execNode: "  node-7 " })).execNode).toBe("node-7");
    expect(failure(patch({ execAsk: "sometimes" })).message).toBe(
      'invalid execAsk (use "off"|"on-miss"|"always")',
    );
    expect(failure(patch({ execHost: "cloud" })).message).toBe(
      'invalid execHost (use "sandbox"|"gateway"|"node")',
    );
    expect(failure(patch({ execSecurity: "some" })).message).toBe(
      'invalid execSecurity (use "deny"|"allowlist"|"full")',
    );
    expect(failure(patch({ execNode: "  " })).message).toBe("invalid execNode: empty");
  });

  it("checks sendPolicy and groupActivation", () => {
    expect(ok(patch({ sendPolicy: "deny" })).sendPolicy).toBe("deny");
    expect(ok(patch({ groupActivation: "always" })).groupActivation).toBe("always");
    const current = { sessionId: "s", updatedAt: 1, sendPolicy: "deny" as const };
    expect(ok(patch({ sendPolicy: null }, current))).not.toHaveProperty("sendPolicy");
    expect(failure(patch({ sendPolicy: "maybe" as "allow" })).message).toBe(
      'invalid sendPolicy (use "allow"|"deny")',
    );
    expect(failure(patch({ groupActivation: "never" as "always" })).message).toBe(
      'invalid groupActivation (use "mention"|"always")',
    );
  });
});

describe("applySessionsPatch: label and spawnedBy", () => {
  it("trims labels, rejects empty and taken ones (#152)", () => {
    expect(ok(patch({ label: "  Briefing " })).label).toBe("Briefing");
    expect(failure(patch({ label: "   " })).message).toBe("invalid label: empty");
    expect(failure(patch({ label: "x".repeat(65) })).message).toBe(
      "invalid label: too long (max 64)",
    );
    expect(failure(patch({ label: "Briefing" }, null, { taken: ["Briefing"] })).message).toBe(
      "label already in use: Briefing",
    );
    expect(
      ok(patch({ label: null }, { sessionId: "s", updatedAt: 1, label: "x" })),
    ).not.toHaveProperty("label");
  });

  it("allows spawnedBy on sub-agent sessions only, once (#153)", () => {
    expect(failure(patch({ spawnedBy: "agent:main:main" })).message).toBe(
      "spawnedBy is only supported for subagent:* sessions",
    );
    const sub = { key: "agent:main:subagent:x" };
    expect(ok(patch({ spawnedBy: " agent:main:main " }, null, sub)).spawnedBy).toBe(
      "agent:main:main",
    );
    const spawned = { sessionId: "s", updatedAt: 1, spawnedBy: "agent:main:main" };
    expect(failure(patch({ spawnedBy: "agent:main:other" }, spawned, sub)).message).toBe(
      "spawnedBy cannot be changed once set",
    );
    expect(ok(patch({ spawnedBy: "agent:main:main" }, spawned, sub)).spawnedBy).toBe(
      "agent:main:main",
    );
    expect(failure(patch({ spawnedBy: null }, spawned, sub)).message).toBe(
      "spawnedBy cannot be cleared once set",
    );
    expect(ok(patch({ spawnedBy: null }, null, sub))).not.toHaveProperty("spawnedBy");
    expect(failure(patch({ spawnedBy: "  " }, null, sub)).message).toBe("invalid spawnedBy: empty");
    expect(ok(patch({ spawnedBy: "p" }, null, { key: "agent:main:SubAgent:Y" })).spawnedBy).toBe(
      "p",
    );
  });
});

describe("applySessionsPatch: creation, time and atomicity", () => {
  it("creates a missing session with a fresh id and updatedAt now (#154)", () => {
    expect(ok(patch({}, null))).toEqual({ sessionId: "new-uuid", updatedAt: NOW });
  });

  it("bumps updatedAt on every accepted patch and never moves it back", () => {
    expect(ok(patch({ label: "x" }, { sessionId: "s", updatedAt: 5 })).updatedAt).toBe(NOW);
    expect(ok(patch({}, { sessionId: "s", updatedAt: NOW + 10 })).updatedAt).toBe(NOW + 10);
  });

  it("applies nothing when a later field fails (#157) and never touches the input", () => {
    const entry: SessionEntry = Object.freeze({
      sessionId: "s",
      updatedAt: 1,
      thinkingLevel: "low",
    });
    const error = failure(patch({ thinkingLevel: "high", execHost: "cloud" }, entry));
    expect(error.message).toMatch(/^invalid execHost/);
    expect(entry.thinkingLevel).toBe("low");
    expect(ok(patch({ thinkingLevel: "high" }, entry)).thinkingLevel).toBe("high");
    expect(entry.thinkingLevel).toBe("low");
  });

  it("keeps unknown fields and fields absent from the patch", () => {
    const entry = {
      sessionId: "s",
      updatedAt: 1,
      queueMode: "collect" as const,
      futureField: { a: 1 },
    };
    expect(ok(patch({ label: "x" }, entry))).toMatchObject({
      queueMode: "collect",
      futureField: { a: 1 },
    });
  });
});

describe("applySessionsPatch: model", () => {
  const authFields = {
    authProfileOverride: "work",
    authProfileOverrideSource: "user" as const,
    authProfileOverrideCompactionCount: 3,
  };

  it("sets overrides and drops the auth profile (#146)", () => {
    const listed = config({ agents: { defaults: { models: { "openai/gpt-5.2": {} } } } });
    const entry = {
      sessionId: "s",
      updatedAt: 1,
      providerOverride: "anthropic",
      modelOverride: "claude-opus-4-5",
      ...authFields,
    };
    const result = patch({ model: "openai/gpt-5.2" }, entry, { cfg: listed });
    const next = ok(result);
    expect(next).toMatchObject({ providerOverride: "openai", modelOverride: "gpt-5.2" });
    for (const field of Object.keys(authFields)) expect(next).not.toHaveProperty(field);
    expect(result).toMatchObject({ resolved: { modelProvider: "openai", model: "gpt-5.2" } });
  });

  it("removes the overrides for null and for the default model (#155)", () => {
    const entry = {
      sessionId: "s",
      updatedAt: 1,
      providerOverride: "openai",
      modelOverride: "gpt-5.2",
      ...authFields,
    };
    for (const model of [null, "anthropic/claude-opus-4-6"]) {
      const next = ok(patch({ model }, entry));
      for (const field of ["providerOverride", "modelOverride", ...Object.keys(authFields)]) {
        expect(next).not.toHaveProperty(field);
      }
    }
  });

  it("never answers model catalog unavailable: any provider/model works without an allowlist", () => {
    expect(ok(patch({ model: "openai/gpt-test-a" }))).toMatchObject({
      providerOverride: "openai",
      modelOverride: "gpt-test-a",
    });
    const error = failure(patch({ model: "x" }));
    expect(error).toEqual({ code: "INVALID_PARAMS", message: "invalid model: x" });
    expect(failure(patch({ model: " " })).message).toBe("invalid model: empty");
  });

  it("resolves aliases and rejects models outside the allowlist", () => {
    const listed = config({
      agents: {
        defaults: {
          models: { "openai/gpt-5.2": { alias: "smart" }, "anthropic/claude-sonnet-4-5": {} },
        },
      },
    });
    expect(ok(patch({ model: "smart" }, null, { cfg: listed }))).toMatchObject({
      providerOverride: "openai",
      modelOverride: "gpt-5.2",
    });
    expect(failure(patch({ model: "openai/gpt-4o" }, null, { cfg: listed })).message).toBe(
      "model not allowed: openai/gpt-4o",
    );
  });

  it("guards xhigh: an error when the patch asks for it, a downgrade otherwise (#156)", () => {
    expect(failure(patch({ thinkingLevel: "xhigh" })).message).toMatch(
      /^thinkingLevel "xhigh" is only supported for openai\/gpt-5\.2, /,
    );
    const xhigh = {
      sessionId: "s",
      updatedAt: 1,
      thinkingLevel: "xhigh",
      providerOverride: "openai",
      modelOverride: "gpt-5.2",
    };
    expect(ok(patch({ model: "anthropic/claude-sonnet-4-5" }, xhigh)).thinkingLevel).toBe("high");
    expect(ok(patch({ thinkingLevel: "x-high" }, xhigh)).thinkingLevel).toBe("xhigh");
    expect(ok(patch({ thinkingLevel: "xhigh", model: "openai/gpt-5.2" })).thinkingLevel).toBe(
      "xhigh",
    );
  });
});

describe("applySessionsPatchToStore", () => {
  const target = {
    canonicalKey: "agent:main:subagent:one",
    storeKeys: ["agent:main:subagent:one"],
  };

  it("rejects a label used by another session and leaves the store untouched", () => {
    const store: Record<string, SessionEntry> = {
      "agent:main:discord:group:dev": { sessionId: "g", updatedAt: 1, label: "Briefing" },
      "agent:main:subagent:one": { sessionId: "o", updatedAt: 2 },
    };
    const before = structuredClone(store);
    const result = applySessionsPatchToStore({
      cfg,
      store,
      target,
      patch: { label: "Briefing", thinkingLevel: "high" },
    });
    expect(result).toMatchObject({
      ok: false,
      error: { code: "INVALID_PARAMS", message: "label already in use: Briefing" },
    });
    expect(store).toEqual(before);
  });

  it("accepts the session's own label, also when a twin spelling carries it", () => {
    const store: Record<string, SessionEntry> = {
      "agent:main:SubAgent:one": { sessionId: "ghost", updatedAt: 1, label: "Briefing" },
      "agent:main:subagent:one": { sessionId: "o", updatedAt: 2, label: "Briefing" },
    };
    expect(
      applySessionsPatchToStore({
        cfg,
        store,
        target,
        patch: { label: "Briefing" },
        now: () => NOW,
      }),
    ).toMatchObject({
      ok: true,
      key: "agent:main:subagent:one",
      entry: { sessionId: "o", label: "Briefing", updatedAt: NOW },
    });
  });

  it("moves an entry found under an alias to the canonical key", () => {
    const store: Record<string, SessionEntry> = { main: { sessionId: "m", updatedAt: 1 } };
    const result = applySessionsPatchToStore({
      cfg,
      store,
      target: { canonicalKey: "agent:main:main", storeKeys: ["agent:main:main", "main"] },
      patch: { sendPolicy: "deny" },
      now: () => NOW,
    });
    expect(result).toMatchObject({ ok: true, key: "agent:main:main", migratedFrom: "main" });
    expect(store).toEqual({
      "agent:main:main": { sessionId: "m", updatedAt: NOW, sendPolicy: "deny" },
    });
  });

  it("patches a session stored under its bare key instead of creating a second entry", () => {
    const store: Record<string, SessionEntry> = {
      "discord:group:dev": { sessionId: "g", updatedAt: 1, label: "dev" },
    };
    const result = applySessionsPatchToStore({
      cfg,
      store,
      target: resolveGatewaySessionStoreTarget({
        cfg,
        key: "agent:main:discord:group:dev",
        stateDir: "/s",
      }),
      patch: { label: "dev", thinkingLevel: "high" },
      now: () => NOW,
    });
    expect(result).toMatchObject({
      ok: true,
      key: "agent:main:discord:group:dev",
      migratedFrom: "discord:group:dev",
    });
    expect(store).toEqual({
      "agent:main:discord:group:dev": {
        sessionId: "g",
        updatedAt: NOW,
        label: "dev",
        thinkingLevel: "high",
      },
    });
  });

  it("patches the newest of mixed-case twins", () => {
    const store: Record<string, SessionEntry> = {
      "agent:main:Telegram:Direct:Ann": { sessionId: "new", updatedAt: 50 },
      "agent:main:telegram:direct:Ann": { sessionId: "old", updatedAt: 10 },
    };
    const result = applySessionsPatchToStore({
      cfg,
      store,
      target: {
        canonicalKey: "agent:main:telegram:direct:Ann",
        storeKeys: ["agent:main:telegram:direct:Ann"],
      },
      patch: { label: "ann" },
      now: () => NOW,
    });
    expect(result).toMatchObject({ ok: true, entry: { sessionId: "new", label: "ann" } });
    expect(store["agent:main:telegram:direct:Ann"]?.sessionId).toBe("new");
    expect(store).not.toHaveProperty("agent:main:Telegram:Direct:Ann");
  });
});
