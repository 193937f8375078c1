import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SessionStore, SessionsChangedEvent, SessionsListResult } from "@clawkeep/schema";
import { createDefaultSessionsConfig } from "@clawkeep/session-utils";
import { createFileSessionStore, updateSessionStore } from "@clawkeep/store";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { countRowsThatFit, truncateListResult } from "./list-response-cap.ts";
import { createMethodRegistry, type DispatchContext } from "./method-registry.ts";
import { createSessionChangeFeed } from "./session-change-feed.ts";
import { createSessionMethodContext } from "./session-method-context.ts";
import { registerSessionMethods, SESSIONS_TOPIC } from "./session-methods.ts";
import { resolveSessionRuntimeHooks } from "./session-runtime-hooks.ts";
import { patchSession } from "./sessions-write-handlers.ts";
import {
  createKeySpellingMatcher,
  findKeySpellings,
  findListedSpellings,
  listSessionSpellings,
  viewOfDraft,
  viewOfKeys,
} from "./store-view.ts";

function operator(scopes: string[], subscriptions = new Set<string>()): DispatchContext {
  return {
    client: {
      connId: "c1",
      role: "operator",
      scopes,
      client: { id: "test", version: "1", platform: "linux", mode: "test" },
    },
    subscriptions,
  };
}

async function stateWith(store: Record<string, object>) {
  const stateDir = await testdir();
  const sessionsDir = join(stateDir, "agents", "main", "sessions");
  await mkdir(sessionsDir, { recursive: true });
  const storePath = join(sessionsDir, "sessions.json");
  await writeFile(storePath, JSON.stringify(store, null, 2));
  return { stateDir, storePath, env: { HOME: stateDir } };
}

describe("registerSessionMethods", () => {
  it("registers every method with its scope and declares sessions.changed", async () => {
    const { stateDir, env } = await stateWith({});
    const registry = createMethodRegistry();
    const methods = registerSessionMethods(registry, { stateDir, env });
    onTestFinished(() => methods.close());
    expect(registry.advertisedMethods()).toEqual([
      "sessions.list",
      "sessions.preview",
      "sessions.patch",
      "sessions.reset",
      "sessions.delete",
      "sessions.compact",
      "sessions.resolve",
      "sessions.subscribe",
      "sessions.unsubscribe",
    ]);
    expect(registry.declaredEvents()).toEqual(["sessions.changed"]);
    const reader = operator(["operator.read"]);
    for (const method of [
      "sessions.patch",
      "sessions.reset",
      "sessions.delete",
      "sessions.compact",
    ]) {
      expect(await registry.dispatch({ id: "1", method, params: { key: "x" } }, reader)).toEqual({
        ok: false,
        error: { code: "INVALID_REQUEST", message: "missing scope: operator.admin" },
      });
    }
    expect(
      await registry.dispatch(
        { id: "2", method: "sessions.resolve", params: { key: "x" } },
        reader,
      ),
    ).toEqual({ ok: false, error: { code: "INVALID_REQUEST", message: "No session found: x" } });
  });

  it("marks the connection subscribed only after its stores are watched", async () => {
    const { stateDir, env, storePath } = await stateWith({
      "agent:main:main": { sessionId: "s1", updatedAt: 1 },
    });
    const events: SessionsChangedEvent[] = [];
    const registry = createMethodRegistry();
    const methods = registerSessionMethods(registry, {
      stateDir,
      env,
      watchDebounceMs: 10,
      publishChange: (event) => events.push(event),
    });
    onTestFinished(() => methods.close());
    const subscriptions = new Set<string>();
    const context = operator(["operator.read"], subscriptions);
    const result = await registry.dispatch(
      { id: "s", method: "sessions.subscribe", params: {} },
      context,
    );
    expect(result).toEqual({ ok: true, payload: { ok: true, subscribed: true } });
    expect([...subscriptions]).toEqual([SESSIONS_TOPIC]);
    await updateSessionStore(storePath, (draft) => {
      draft["agent:main:main"] = { sessionId: "s1", updatedAt: 2 };
    });
    expect(events).toEqual([
      { key: "agent:main:main", agentId: "main", action: "patched", ts: expect.any(Number) },
    ]);
    await registry.dispatch({ id: "u", method: "sessions.unsubscribe", params: {} }, context);
    expect(subscriptions.size).toBe(0);
  });

  it("keeps a listing under maxResponseBytes", async () => {
    const store: Record<string, object> = {};
    for (let index = 0; index < 30; index += 1) {
      store[`agent:main:s${index}`] = { sessionId: `id-${index}`, updatedAt: 1000 - index };
    }
    const { stateDir, env } = await stateWith(store);
    const registry = createMethodRegistry();
    registerSessionMethods(registry, { stateDir, env, maxResponseBytes: 2000 });
    const result = await registry.dispatch(
      { id: "l", method: "sessions.list", params: { offset: 5 } },
      operator(["operator.read"]),
    );
    expect(result.ok).toBe(true);
    const payload = (result as { payload: SessionsListResult }).payload;
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(2000);
    expect(payload.sessions[0]?.key).toBe("agent:main:s5");
    expect(payload.nextOffset).toBe(5 + payload.count);
    expect(payload.total).toBe(30);
    expect(payload.warnings?.[0]?.code).toBe("RESPONSE_TRUNCATED");
  });
});

describe("list response cap", () => {
  it("keeps a full listing of a large store under the default 4 MiB", async () => {
    const store: Record<string, object> = {};
    for (let index = 0; index < 6000; index += 1) {
      store[`agent:main:telegram:direct:${index}`] = {
        sessionId: `id-${index}`,
        updatedAt: index,
        subject: "s".repeat(1000),
      };
    }
    const { stateDir, env } = await stateWith(store);
    const registry = createMethodRegistry();
    registerSessionMethods(registry, { stateDir, env });
    const result = await registry.dispatch(
      { id: "all", method: "sessions.list", params: {} },
      operator(["operator.read"]),
    );
    const payload = (result as { payload: SessionsListResult }).payload;
    const bytes = Buffer.byteLength(JSON.stringify(payload));
    expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(bytes).toBeGreaterThan(3.5 * 1024 * 1024);
    expect(payload.total).toBe(6000);
    expect(payload.nextOffset).toBe(payload.count);
    expect(payload.warnings?.map((warning) => warning.code)).toEqual(["RESPONSE_TRUNCATED"]);
  });

  const base: SessionsListResult = {
    ts: 1,
    path: "(multiple)",
    count: 3,
    defaults: { modelProvider: "a", model: "b", contextTokens: 1 },
    sessions: [1, 2, 3].map((index) => ({
      key: `agent:main:k${index}`,
      kind: "direct" as const,
      updatedAt: index,
      totalTokens: 0,
    })),
    total: 10,
    nextOffset: 3,
  };

  it("always keeps one row and leaves a fitting result as it is", () => {
    expect(countRowsThatFit(base, 10)).toBe(1);
    expect(countRowsThatFit(base, 1_000_000)).toBe(3);
    expect(truncateListResult(base, 3, 0, 1000)).toBe(base);
  });

  it("cuts, moves nextOffset and appends a warning after the existing ones", () => {
    const withWarning = { ...base, warnings: [{ code: "STORE_CORRUPT", message: "m" }] };
    expect(truncateListResult(withWarning, 1, 4, 100)).toEqual({
      ...withWarning,
      count: 1,
      sessions: [base.sessions[0]],
      nextOffset: 5,
      warnings: [
        { code: "STORE_CORRUPT", message: "m" },
        {
          code: "RESPONSE_TRUNCATED",
          message: "returned 1 of 3 rows to stay under 100 bytes; continue with offset 5",
        },
      ],
    });
  });
});

describe("store views and spellings", () => {
  it("lists every spelling of a session and nothing else", () => {
    const cfg = createDefaultSessionsConfig();
    const store = {
      main: { sessionId: "a", updatedAt: 1 },
      "agent:main:MAIN": { sessionId: "b", updatedAt: 1 },
      "agent:main:main": { sessionId: "c", updatedAt: 1 },
      "agent:main:mainly": { sessionId: "d", updatedAt: 1 },
      "agent:ops:main": { sessionId: "e", updatedAt: 1 },
    };
    const target = {
      agentId: "main",
      storePath: "/x",
      canonicalKey: "agent:main:main",
      storeKeys: ["agent:main:main"],
      mainKey: "main",
    };
    expect(listSessionSpellings(Object.keys(store), cfg, target).sort()).toEqual([
      "agent:main:MAIN",
      "agent:main:main",
      "main",
    ]);
  });

  it("reads a draft without copying it, and sees earlier updates of the same batch", async () => {
    const { storePath } = await stateWith({
      "agent:main:Telegram:direct:A": { sessionId: "a", updatedAt: 1 },
    });
    const backend = createFileSessionStore(storePath);
    const lookup = createFileSessionStore(storePath, { matchText: createKeySpellingMatcher() });
    const target = {
      agentId: "main",
      storePath,
      canonicalKey: "agent:main:telegram:direct:A",
      storeKeys: ["agent:main:telegram:direct:A", "b"],
      mainKey: "main",
    };
    const seen: unknown[] = [];
    await Promise.all([
      backend.update((draft) => {
        draft.b = { sessionId: "b", updatedAt: 2 };
      }),
      backend.update(async (draft) => {
        const view = viewOfDraft(draft);
        seen.push(Object.keys(view));
        expect(Object.isFrozen(view["agent:main:Telegram:direct:A"])).toBe(true);
        const spellings = await findKeySpellings(lookup, target);
        seen.push(spellings);
        seen.push(viewOfKeys(draft, [...target.storeKeys, ...spellings]));
      }),
    ]);
    expect(seen).toEqual([
      ["agent:main:Telegram:direct:A", "b"],
      ["agent:main:Telegram:direct:A"],
      {
        b: { sessionId: "b", updatedAt: 2 },
        "agent:main:Telegram:direct:A": { sessionId: "a", updatedAt: 1 },
      },
    ]);
  });
});

describe("patch lookups", () => {
  /** The patch handler over `store`, with a key lookup that counts its passes over the keys. */
  async function patcher(store: Record<string, object>) {
    const { stateDir, env, storePath } = await stateWith(store);
    const context = createSessionMethodContext({ stateDir, env });
    const feed = createSessionChangeFeed({ publish: () => {} });
    onTestFinished(() => feed.close());
    let scans = 0;
    const dependencies = {
      context: {
        ...context,
        keyLookup(path: string) {
          const lookup = context.keyLookup(path);
          return {
            ...lookup,
            list: (query?: Parameters<typeof lookup.list>[0]) => {
              scans += 1;
              return lookup.list(query);
            },
          };
        },
      },
      feed,
      hooks: resolveSessionRuntimeHooks(),
      activeWaitMs: 0,
    };
    return { storePath, dependencies, scans: () => scans };
  }

  it("reads a stored spelling directly, without a pass over every key", async () => {
    const { dependencies, scans } = await patcher({
      "agent:main:telegram:direct:A": { sessionId: "a", updatedAt: 1 },
      "agent:main:telegram:direct:B": { sessionId: "b", updatedAt: 1 },
    });
    const result = await patchSession(dependencies, {
      key: "telegram:direct:A",
      thinkingLevel: "high",
    });
    expect(result).toMatchObject({
      key: "agent:main:telegram:direct:A",
      entry: { sessionId: "a", thinkingLevel: "high" },
    });
    expect(scans()).toBe(0);
  });

  it("looks through every key only for a session stored under none of its spellings", async () => {
    const { dependencies, scans, storePath } = await patcher({
      "Agent:Main:Telegram:direct:A": { sessionId: "twin", updatedAt: 1 },
    });
    const result = await patchSession(dependencies, {
      key: "agent:main:telegram:direct:A",
      thinkingLevel: "low",
    });
    // The twin is found, patched and moved to the canonical key, not replaced by a new session.
    expect(result).toMatchObject({
      key: "agent:main:telegram:direct:A",
      entry: { sessionId: "twin", thinkingLevel: "low" },
    });
    expect(scans()).toBe(1);
    const stored = await createFileSessionStore(storePath).snapshot();
    expect(Object.keys(stored)).toEqual(["agent:main:telegram:direct:A"]);
  });

  it("keeps labels unique within a batch, across batches, and frees a cleared label", async () => {
    const { dependencies } = await patcher({
      "agent:main:a": { sessionId: "a", updatedAt: 1 },
      "agent:main:b": { sessionId: "b", updatedAt: 1 },
      "agent:main:c": { sessionId: "c", updatedAt: 1, label: "taken" },
    });
    // One batch: the second patch sees the label the first gave before it is committed.
    const same = await Promise.allSettled([
      patchSession(dependencies, { key: "agent:main:a", label: "dup" }),
      patchSession(dependencies, { key: "agent:main:b", label: "dup" }),
    ]);
    expect(same.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected"]);
    expect(same[1]).toMatchObject({ reason: { message: "label already in use: dup" } });
    // Another batch sees the committed label.
    await expect(patchSession(dependencies, { key: "agent:main:b", label: "dup" })).rejects.toThrow(
      "label already in use: dup",
    );
    await expect(
      patchSession(dependencies, { key: "agent:main:b", label: "taken" }),
    ).rejects.toThrow("label already in use: taken");
    // Clearing a label frees it, in the same batch and in a later one.
    const freed = await Promise.all([
      patchSession(dependencies, { key: "agent:main:c", label: null }),
      patchSession(dependencies, { key: "agent:main:b", label: "taken" }),
    ]);
    expect(freed[1]).toMatchObject({ entry: { label: "taken" } });
    await patchSession(dependencies, { key: "agent:main:a", label: null });
    expect(await patchSession(dependencies, { key: "agent:main:c", label: "dup" })).toMatchObject({
      entry: { label: "dup" },
    });
  });

  it("checks label patches without a pass over a large store per patch", async () => {
    const store: Record<string, object> = {};
    for (let index = 0; index < 10_000; index += 1) {
      store[`agent:main:s${index}`] = {
        sessionId: `id-${index}`,
        updatedAt: 1,
        label: `l${index}`,
      };
    }
    const { dependencies } = await patcher(store);
    const started = performance.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, index) =>
        patchSession(dependencies, { key: `agent:main:s${index}`, label: `l${(index + 1) % 400}` }),
      ),
    );
    // A generous bound: a pass over the store per patch took seconds.
    expect(performance.now() - started).toBeLessThan(2000);
    const rejected = outcomes.filter((outcome) => outcome.status === "rejected");
    // Every label l1..l200 is held by another session when its patch runs, except where the
    // holder gave its own label away earlier in the same batch.
    expect(rejected.length).toBeGreaterThan(0);
  });

  it("reads only the listed spellings of a draft, as given and normalised", () => {
    const store: Record<string, unknown> = {
      "agent:main:main": { sessionId: "c", updatedAt: 1 },
      Main: { sessionId: "a", updatedAt: 1 },
      "agent:main:other": { sessionId: "o", updatedAt: 1 },
    };
    const touched: string[] = [];
    const draft = new Proxy(store, {
      getOwnPropertyDescriptor(target, property) {
        touched.push(String(property));
        return Reflect.getOwnPropertyDescriptor(target, property);
      },
      ownKeys() {
        throw new Error("the draft's keys were listed");
      },
    });
    const target = {
      agentId: "main",
      storePath: "/x",
      canonicalKey: "agent:main:main",
      storeKeys: ["agent:main:main", "Main"],
      mainKey: "main",
    };
    expect(findListedSpellings(draft as SessionStore, target)).toEqual(["agent:main:main", "Main"]);
    expect(new Set(touched)).toEqual(new Set(["agent:main:main", "Main", "main"]));
  });
});

describe("change feed", () => {
  it("reports a moved spelling as patched and a removed twin as patched, once each", async () => {
    const { storePath } = await stateWith({
      "discord:group:dev": { sessionId: "a", updatedAt: 1 },
      "agent:main:Discord:group:x": { sessionId: "b", updatedAt: 1 },
      "agent:main:discord:group:x": { sessionId: "c", updatedAt: 2 },
    });
    const events: SessionsChangedEvent[] = [];
    const feed = createSessionChangeFeed({ publish: (event) => events.push(event), now: () => 7 });
    onTestFinished(() => feed.close());
    const backend = createFileSessionStore(storePath);
    await feed.watch({ agentId: "main", storePath, mainKey: "main", backend });
    await backend.update((draft) => {
      const entry = draft["discord:group:dev"];
      delete draft["discord:group:dev"];
      if (entry !== undefined) draft["agent:main:discord:group:dev"] = entry;
      delete draft["agent:main:Discord:group:x"];
    });
    expect(events).toEqual([
      { key: "agent:main:discord:group:dev", agentId: "main", action: "patched", ts: 7 },
      { key: "agent:main:discord:group:x", agentId: "main", action: "patched", ts: 7 },
    ]);
  });

  it("labels expected commits and reports an expected change no commit showed", async () => {
    const { storePath } = await stateWith({ k: { sessionId: "a", updatedAt: 1 } });
    const events: SessionsChangedEvent[] = [];
    const feed = createSessionChangeFeed({ publish: (event) => events.push(event), now: () => 1 });
    onTestFinished(() => feed.close());
    const backend = createFileSessionStore(storePath);
    await feed.watch({ agentId: "main", storePath, mainKey: "main", backend });
    const labelled = feed.expect(storePath, "main", "agent:main:k", "reset");
    await backend.update((draft) => {
      draft.k = { sessionId: "b", updatedAt: 2 };
    });
    labelled.finish(true);
    const silent = feed.expect(storePath, "main", "agent:main:k", "compacted");
    silent.finish(true);
    feed.expect(storePath, "main", "agent:main:k", "compacted").finish(false);
    expect(events.map((event) => event.action)).toEqual(["reset", "compacted"]);
  });
});
