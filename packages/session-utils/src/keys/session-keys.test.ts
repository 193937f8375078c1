import { join, resolve } from "node:path";
import type { SessionEntry } from "@clawkeep/schema";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { parseSessionsConfig, type SessionsConfig } from "../config/sessions-config.ts";
import { buildGroupDisplayName } from "./group-display-name.ts";
import { findStoreEntry, listKeyTwins, normalizeSessionKeyCase } from "./key-case.ts";
import {
  canonicalizeMainSessionAlias,
  classifySessionKey,
  parseGroupKey,
  resolveMainSessionKey,
  resolveSessionStoreAgentId,
  resolveSessionStoreKey,
} from "./session-keys.ts";
import { resolveGatewaySessionStoreTarget } from "./store-target.ts";

function config(raw: unknown): SessionsConfig {
  const result = parseSessionsConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

const key = (cfg: SessionsConfig, sessionKey: string) =>
  resolveSessionStoreKey({ cfg, sessionKey });

describe("parseGroupKey", () => {
  it("parses bare and agent group keys, rejects other shapes (#26-#28)", () => {
    const expected = { channel: "discord", kind: "group", id: "dev" };
    expect(parseGroupKey("discord:group:dev")).toEqual(expected);
    expect(parseGroupKey("agent:ops:discord:group:dev")).toEqual(expected);
    expect(parseGroupKey("foo:bar")).toBeNull();
    expect(parseGroupKey("agent:ops:main")).toBeNull();
    expect(parseGroupKey("slack:channel:C01:thread:1700")).toEqual({
      channel: "slack",
      kind: "channel",
      id: "C01:thread:1700",
    });
  });
});

describe("classifySessionKey", () => {
  it("classifies sentinels, group keys and chat types (#29)", () => {
    expect(classifySessionKey("global")).toBe("global");
    expect(classifySessionKey("unknown")).toBe("unknown");
    expect(classifySessionKey("discord:group:dev")).toBe("group");
    expect(classifySessionKey("main")).toBe("direct");
    expect(classifySessionKey("main", { chatType: "group" })).toBe("group");
    expect(classifySessionKey("agent:main:slack:channel:c1")).toBe("group");
  });
});

describe("resolveSessionStoreKey", () => {
  it("maps main aliases to the default agent's configured main key (#30)", () => {
    const cfg = config({
      session: { mainKey: "work" },
      agents: { list: [{ id: "ops", default: true }] },
    });
    expect(key(cfg, "main")).toBe("agent:ops:work");
    expect(key(cfg, "work")).toBe("agent:ops:work");
    expect(key(cfg, "agent:ops:main")).toBe("agent:ops:work");
    expect(resolveMainSessionKey(cfg)).toBe("agent:ops:work");
  });

  it("puts bare keys under the default agent and keeps other agents' keys (#31)", () => {
    const cfg = config({ agents: { list: [{ id: "ops", default: true }] } });
    expect(key(cfg, "discord:group:123")).toBe("agent:ops:discord:group:123");
    expect(key(cfg, "agent:alpha:main")).toBe("agent:alpha:main");
  });

  it("maps main to global under global scope (#32)", () => {
    const cfg = config({
      session: { scope: "global", mainKey: "work" },
      agents: { list: [{ id: "ops", default: true }] },
    });
    expect(key(cfg, "main")).toBe("global");
    const target = resolveGatewaySessionStoreTarget({ cfg, key: "main", stateDir: "/state" });
    expect(target).toMatchObject({ canonicalKey: "global", agentId: "ops" });
  });

  it("uses the main agent without agents.list (#34)", () => {
    const cfg = config({ session: { mainKey: "work" } });
    expect(key(cfg, "main")).toBe("agent:main:work");
    expect(key(cfg, "thread-1")).toBe("agent:main:thread-1");
  });

  it("keeps the case of opaque parts (#35)", () => {
    const cfg = config({ agents: { list: [{ id: "ops", default: true }] } });
    expect(key(cfg, "agent:ops:MySession")).toBe("agent:ops:MySession");
    expect(key(cfg, "MySession")).toBe("agent:ops:MySession");
  });

  it("lower-cases the fixed words only", () => {
    const cfg = config({ session: { mainKey: "work" } });
    expect(key(cfg, " Agent:Ops:Discord:Group:DevTeam ")).toBe("agent:ops:discord:group:DevTeam");
    expect(key(cfg, "Telegram:Direct:Alice")).toBe("agent:main:telegram:direct:Alice");
    expect(key(cfg, "agent:main:Slack:Channel:C01:Thread:AbC")).toBe(
      "agent:main:slack:channel:C01:thread:AbC",
    );
    expect(key(cfg, "agent:main:SubAgent:Research")).toBe("agent:main:subagent:Research");
    expect(key(cfg, "agent:main:Cron:Nightly:Run:R1")).toBe("agent:main:cron:Nightly:run:R1");
    expect(key(cfg, "AGENT:OPS:WORK")).toBe("agent:ops:work");
    expect(key(cfg, "GLOBAL")).toBe("global");
    expect(key(cfg, "")).toBe("");
  });
});

describe("canonicalizeMainSessionAlias", () => {
  it("treats main, the main key and both agent spellings as the agent's main session", () => {
    const cfg = config({ session: { mainKey: "work" } });
    for (const alias of ["main", "work", "agent:ops:main", "agent:ops:work", "Agent:Ops:MAIN"]) {
      expect(canonicalizeMainSessionAlias({ cfg, agentId: "ops", sessionKey: alias })).toBe(
        "agent:ops:work",
      );
    }
    expect(canonicalizeMainSessionAlias({ cfg, agentId: "ops", sessionKey: "agent:ops:x" })).toBe(
      "agent:ops:x",
    );
  });
});

describe("resolveGatewaySessionStoreTarget", () => {
  it("resolves a {agentId} store template for the key's agent (#33)", async () => {
    const dir = await testdir();
    const template = join(dir, "openclaw-session-utils", "{agentId}", "sessions.json");
    const cfg = config({
      session: { store: template },
      agents: { list: [{ id: "ops", default: true }] },
    });
    const target = resolveGatewaySessionStoreTarget({ cfg, key: "main" });
    expect(target.canonicalKey).toBe("agent:ops:main");
    expect(target.storeKeys).toEqual(expect.arrayContaining(["agent:ops:main", "main"]));
    expect(target.storePath).toBe(
      resolve(join(dir, "openclaw-session-utils", "ops", "sessions.json")),
    );
  });

  it("canonicalises an agent segment that is not a valid agent id", () => {
    const cfg = config({});
    const target = resolveGatewaySessionStoreTarget({
      cfg,
      key: "agent:../../x:main",
      stateDir: "/s",
    });
    expect(target.canonicalKey).toBe("agent:x:main");
    expect(target.agentId).toBe("x");
    expect(target.storePath).toBe(resolve("/s/agents/x/sessions/sessions.json"));
    expect(
      resolveGatewaySessionStoreTarget({
        cfg,
        key: "agent:../main:discord:group:dev",
        stateDir: "/s",
      }).canonicalKey,
    ).toBe("agent:main:discord:group:dev");
  });

  it("stores global and unknown in the default agent's store (#36)", () => {
    const cfg = config({ agents: { list: [{ id: "ops", default: true }] } });
    for (const sentinel of ["global", "unknown"]) {
      const target = resolveGatewaySessionStoreTarget({ cfg, key: sentinel, stateDir: "/state" });
      expect(target).toMatchObject({
        agentId: "ops",
        canonicalKey: sentinel,
        storeKeys: [sentinel],
        storePath: "/state/agents/ops/sessions/sessions.json",
      });
    }
  });

  it("picks the agent of an agent key", () => {
    const cfg = config({});
    expect(resolveSessionStoreAgentId(cfg, "agent:Beta:main")).toBe("beta");
    const target = resolveGatewaySessionStoreTarget({ cfg, key: "agent:beta:x", stateDir: "/s" });
    expect(target.storePath).toBe("/s/agents/beta/sessions/sessions.json");
  });
});

describe("key twins", () => {
  const entry = (updatedAt: number, sessionId = `s${updatedAt}`): SessionEntry => ({
    sessionId,
    updatedAt,
  });

  it("finds an entry whatever the case of its fixed words; the newest twin wins", () => {
    const store: Record<string, SessionEntry> = {
      "agent:main:Discord:Group:DevTeam": entry(300, "newest"),
      "agent:main:discord:group:DevTeam": entry(100, "older"),
      "agent:main:discord:group:devteam": entry(900, "other-group"),
    };
    const found = findStoreEntry(store, "AGENT:MAIN:discord:GROUP:DevTeam");
    expect(found).toEqual({
      key: "agent:main:Discord:Group:DevTeam",
      entry: store["agent:main:Discord:Group:DevTeam"],
    });
    // The id's case matters: DevTeam and devteam are two different groups.
    expect(findStoreEntry(store, "agent:main:discord:group:devteam")?.entry.sessionId).toBe(
      "other-group",
    );
    expect(findStoreEntry(store, "agent:main:discord:group:nope")).toBeUndefined();
  });

  it("treats a target's keys as spellings of one session: the newest wins", () => {
    const store = { main: entry(500, "alias"), "agent:main:main": entry(100, "canonical") };
    expect(findStoreEntry(store, { storeKeys: ["agent:main:main", "main"] })?.key).toBe("main");
    expect(
      findStoreEntry({ main: entry(1) }, { storeKeys: ["agent:main:main", "main"] })?.key,
    ).toBe("main");
    // Equal times prefer the canonical spelling.
    const tied = { main: entry(100, "alias"), "agent:main:main": entry(100, "canonical") };
    expect(findStoreEntry(tied, { storeKeys: ["agent:main:main", "main"] })?.key).toBe(
      "agent:main:main",
    );
  });

  it("finds a session stored under its bare key by the canonical key", () => {
    const cfg = config({});
    const store = {
      "Discord:Group:dev": entry(300, "bare-twin"),
      "discord:group:dev": entry(200, "bare"),
      "agent:main:discord:group:Dev": entry(900, "another group"),
      "agent:ops:discord:group:dev": entry(999, "another agent"),
    };
    const target = resolveGatewaySessionStoreTarget({
      cfg,
      key: "agent:main:discord:group:dev",
      stateDir: "/s",
    });
    expect(target.storeKeys).toEqual(["agent:main:discord:group:dev", "discord:group:dev"]);
    expect(findStoreEntry(store, target)).toEqual({
      key: "Discord:Group:dev",
      entry: store["Discord:Group:dev"],
    });
    // A plain key finds the bare spelling when the caller names the store's agent.
    expect(findStoreEntry(store, "agent:main:discord:group:dev")).toBeUndefined();
    expect(
      findStoreEntry(store, "agent:main:discord:group:dev", { storeAgentId: "main" })?.key,
    ).toBe("Discord:Group:dev");
    expect(
      findStoreEntry(store, "agent:ops:discord:group:dev", { storeAgentId: "main" })?.key,
    ).toBe("agent:ops:discord:group:dev");
    // A newer canonical entry beats the bare one.
    const both = { "discord:group:dev": entry(200, "bare"), [target.canonicalKey]: entry(250) };
    expect(findStoreEntry(both, target)?.key).toBe(target.canonicalKey);
    // Bare `global` is the global session, not `agent:main:global`.
    expect(
      findStoreEntry({ global: entry(1) }, "agent:main:global", { storeAgentId: "main" }),
    ).toBe(undefined);
  });

  it("lists every spelling a write migrates in the target's store keys", () => {
    const cfg = config({ session: { mainKey: "work" } });
    const main = resolveGatewaySessionStoreTarget({ cfg, key: "Main", stateDir: "/s" });
    expect(main.canonicalKey).toBe("agent:main:work");
    expect(main.storeKeys).toEqual(["agent:main:work", "Main", "agent:main:main", "work", "main"]);
    // A fixed store path holds the default agent's bare keys only.
    const shared = config({
      session: { store: "/s/sessions.json" },
      agents: { list: [{ id: "main", default: true }, { id: "ops" }] },
    });
    const ops = resolveGatewaySessionStoreTarget({ cfg: shared, key: "agent:ops:discord:group:x" });
    expect(ops.storeKeys).toEqual(["agent:ops:discord:group:x"]);
    const own = resolveGatewaySessionStoreTarget({
      cfg: shared,
      key: "agent:main:discord:group:x",
    });
    expect(own.storeKeys).toEqual(["agent:main:discord:group:x", "discord:group:x"]);
  });

  it("lists twins for doctor, newest first", () => {
    const store = {
      "agent:main:Telegram:Direct:Bob": entry(10),
      "agent:main:telegram:direct:Bob": entry(20),
      "agent:main:TELEGRAM:DIRECT:Bob": entry(15),
      "agent:main:telegram:direct:bob": entry(30),
    };
    expect(listKeyTwins(store)).toEqual([
      {
        canonicalKey: "agent:main:telegram:direct:Bob",
        keys: [
          "agent:main:telegram:direct:Bob",
          "agent:main:TELEGRAM:DIRECT:Bob",
          "agent:main:Telegram:Direct:Bob",
        ],
        winner: "agent:main:telegram:direct:Bob",
      },
    ]);
  });

  it("groups bare keys with their agent keys when told the store's agent", () => {
    const store = {
      "discord:group:dev": entry(10),
      "agent:main:Discord:Group:dev": entry(20),
      global: entry(5),
    };
    expect(listKeyTwins(store)).toEqual([]);
    expect(listKeyTwins(store, { storeAgentId: "main" })).toEqual([
      {
        canonicalKey: "agent:main:discord:group:dev",
        keys: ["agent:main:Discord:Group:dev", "discord:group:dev"],
        winner: "agent:main:Discord:Group:dev",
      },
    ]);
  });

  it("normalises the configured main key in any case", () => {
    expect(normalizeSessionKeyCase("agent:ops:WORK", { mainKey: "work" })).toBe("agent:ops:work");
    expect(normalizeSessionKeyCase("agent:ops:WORK")).toBe("agent:ops:WORK");
    expect(normalizeSessionKeyCase("Telegram:Work:Direct:Peer")).toBe("telegram:Work:direct:Peer");
  });
});

describe("buildGroupDisplayName", () => {
  it.each([
    [
      {
        provider: "discord",
        groupChannel: "#general",
        space: "friends-of-openclaw",
        id: "123",
        key: "discord:group:123",
      },
      "discord:friends-of-openclaw#general",
    ],
    [{ provider: "whatsapp", subject: "Family Chat", key: "k" }, "whatsapp:g-family-chat"],
    [{ provider: "telegram", id: "-100123", key: "k" }, "telegram:g-100123"],
    [{ provider: "slack", subject: "#ops", key: "k" }, "slack:g-ops"],
    [{ provider: "discord", groupChannel: "#ops", key: "k" }, "discord:#ops"],
    [{ provider: "Signal", id: "abcdefghijklmnopqrstuvwxyz", key: "k" }, "signal:g-abcdef...wxyz"],
    [{ provider: "x", subject: "g-Already  Prefixed!!", key: "k" }, "x:g-already-prefixed"],
  ])("%j → %s", (params, expected) => {
    expect(buildGroupDisplayName(params)).toBe(expected);
  });
});
