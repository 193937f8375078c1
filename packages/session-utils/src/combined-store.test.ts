import { join } from "node:path";
import type { SessionStore } from "@clawkeep/schema";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { listSessionAgentIds, loadCombinedSessionStore } from "./combined-store.ts";
import { parseSessionsConfig, type SessionsConfig } from "./config/sessions-config.ts";
import { listCombinedSessions } from "./list/list-combined-sessions.ts";

function config(raw: unknown = {}): SessionsConfig {
  const result = parseSessionsConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

const storeFile = (agentId: string) => `agents/${agentId}/sessions/sessions.json`;

describe("loadCombinedSessionStore", () => {
  it("lists two agent dirs, skipping a corrupt store with a warning", async () => {
    const stateDir = await testdir({
      [storeFile("main")]: { "agent:main:main": { sessionId: "m", updatedAt: 10 } },
      [storeFile("ops")]: '{ "agent:ops:main": { "sessionId": ',
      [storeFile("beta")]: { "discord:group:Dev": { sessionId: "b", updatedAt: 20 } },
    });
    const cfg = config();
    const combined = await loadCombinedSessionStore({ cfg, stateDir, env: {} });
    expect(combined.path).toBe("(multiple)");
    expect(Object.keys(combined.store).sort()).toEqual([
      "agent:beta:discord:group:Dev",
      "agent:main:main",
    ]);
    expect(combined.sources.map((source) => source.agentId)).toEqual(["main", "beta"]);
    expect(combined.warnings).toEqual([
      expect.objectContaining({
        code: "STORE_CORRUPT",
        agentId: "ops",
        path: join(stateDir, storeFile("ops")),
      }),
    ]);
    expect(Object.isFrozen(combined.store)).toBe(true);

    const listed = await listCombinedSessions({ cfg, stateDir, env: {} });
    expect(listed.sessions.map((row) => row.key)).toEqual([
      "agent:beta:discord:group:Dev",
      "agent:main:main",
    ]);
    expect(listed.warnings).toEqual(combined.warnings);
  });

  it("leaves warnings out when every store is readable", async () => {
    const stateDir = await testdir({
      [storeFile("main")]: { "agent:main:main": { sessionId: "m", updatedAt: 1 } },
    });
    const listed = await listCombinedSessions({ cfg: config(), stateDir, env: {} });
    expect(listed).not.toHaveProperty("warnings");
    expect(listed.count).toBe(1);
  });

  it("orders configured agents default first, then alphabetically", async () => {
    const cfg = config({
      agents: { list: [{ id: "zeta" }, { id: "Ops", default: true }, { id: "alpha" }] },
    });
    expect(await listSessionAgentIds(cfg, "/nowhere")).toEqual(["ops", "alpha", "zeta"]);
    const stateDir = await testdir({ "agents/extra/sessions/sessions.json": {} });
    expect(await listSessionAgentIds(config(), stateDir)).toEqual(["main", "extra"]);
  });

  it("re-keys bare keys, canonicalises spawnedBy and merges duplicates field by field", async () => {
    const stateDir = await testdir({
      [storeFile("main")]: {
        "agent:ops:shared": { sessionId: "s", updatedAt: 5, label: "old", subject: "kept" },
      },
      [storeFile("ops")]: {
        shared: { sessionId: "s", updatedAt: 9, label: "new" },
        "subagent:x": { sessionId: "x", updatedAt: 3, spawnedBy: "Main" },
        global: { sessionId: "g", updatedAt: 1 },
      },
    });
    const { store } = await loadCombinedSessionStore({ cfg: config(), stateDir, env: {} });
    expect(store["agent:ops:shared"]).toEqual({
      sessionId: "s",
      updatedAt: 9,
      label: "new",
      subject: "kept",
    });
    expect(store["agent:ops:subagent:x"]?.spawnedBy).toBe("agent:ops:main");
    expect(store.global).toEqual({ sessionId: "g", updatedAt: 1 });
  });

  it("collapses mixed-case twins of one store to the newest entry", async () => {
    const stateDir = await testdir({
      [storeFile("main")]: {
        "agent:main:Telegram:Direct:Ann": { sessionId: "new", updatedAt: 9 },
        "agent:main:telegram:direct:Ann": { sessionId: "old", updatedAt: 2, label: "ghost" },
      },
    });
    const { store } = await loadCombinedSessionStore({ cfg: config(), stateDir, env: {} });
    expect(store).toEqual({ "agent:main:telegram:direct:Ann": { sessionId: "new", updatedAt: 9 } });
  });

  it("reads one fixed store for the default agent and reports its path", async () => {
    const dir = await testdir({ "shared.json": { main: { sessionId: "m", updatedAt: 1 } } });
    const cfg = config({
      session: { store: join(dir, "shared.json") },
      agents: { list: [{ id: "ops", default: true }, { id: "b" }] },
    });
    const combined = await loadCombinedSessionStore({ cfg, stateDir: dir, env: {} });
    expect(combined.path).toBe(join(dir, "shared.json"));
    expect(Object.keys(combined.store)).toEqual(["agent:ops:main"]);
  });

  it("reports the raw template as path", async () => {
    const dir = await testdir({ "stores/ops.json": { x: { sessionId: "x", updatedAt: 1 } } });
    const template = join(dir, "stores", "{agentId}.json");
    const cfg = config({
      session: { store: template },
      agents: { list: [{ id: "ops" }, { id: "b" }] },
    });
    const combined = await loadCombinedSessionStore({ cfg, stateDir: dir, env: {} });
    expect(combined.path).toBe(template);
    expect(Object.keys(combined.store)).toEqual(["agent:ops:x"]);
  });

  it("reuses the combined view while the agent snapshots are the same objects", async () => {
    const snapshots = new Map<string, SessionStore>();
    const loadStore = async (path: string) => {
      let snapshot = snapshots.get(path);
      if (snapshot === undefined) {
        snapshot = Object.freeze({
          [`k-${path.length}`]: Object.freeze({ sessionId: "s", updatedAt: 1 }),
        });
        snapshots.set(path, snapshot);
      }
      return snapshot;
    };
    const cfg = config({ agents: { list: [{ id: "main" }, { id: "ops" }] } });
    const first = await loadCombinedSessionStore({ cfg, stateDir: "/s", env: {}, loadStore });
    const second = await loadCombinedSessionStore({ cfg, stateDir: "/s", env: {}, loadStore });
    expect(second.store).toBe(first.store);
    snapshots.clear();
    const third = await loadCombinedSessionStore({ cfg, stateDir: "/s", env: {}, loadStore });
    expect(third.store).not.toBe(first.store);
    expect(third.store).toEqual(first.store);
  });

  it("does not swallow unexpected errors", async () => {
    const loadStore = async () => {
      throw new Error("boom");
    };
    await expect(
      loadCombinedSessionStore({ cfg: config(), stateDir: "/s", env: {}, loadStore }),
    ).rejects.toThrow("boom");
  });
});
