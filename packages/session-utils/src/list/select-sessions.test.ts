import type { SessionEntry } from "@clawkeep/schema";
import { describe, expect, it } from "vitest";
import { matchSessionSearchText } from "./entry-facts.ts";
import { linkStoreSuccessor, type SessionFilters, selectSessionKeys } from "./select-sessions.ts";

// A small deterministic generator, so that a failure can be replayed.
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function buildStore(size: number): Record<string, SessionEntry> {
  const next = random(42);
  const words = ["alpha", "beta", "Gamma", "delta", "ops", "team", "ΔΣ", "ab", "ba"];
  const pick = () => words[Math.floor(next() * words.length)] as string;
  const store: Record<string, SessionEntry> = {};
  for (let index = 0; index < size; index += 1) {
    const kind = index % 3 === 0 ? `discord:group:${pick()}${index}` : `${pick()}-${index}`;
    const key = index % 50 === 0 ? "global" : `agent:${index % 2 === 0 ? "main" : "ops"}:${kind}`;
    const entry: SessionEntry = {
      sessionId: `id-${pick()}-${index}`,
      updatedAt: Math.floor(next() * 40),
    };
    if (next() < 0.3) entry.label = `${pick()} ${pick()}`;
    if (next() < 0.3) entry.displayName = `${pick()}${pick()}`;
    if (next() < 0.3) entry.subject = pick();
    if (next() < 0.2) entry.spawnedBy = "agent:main:main";
    store[key] = entry;
  }
  return store;
}

describe("selectSessionKeys", () => {
  const plain = buildStore(400);
  const frozen = Object.freeze({ ...plain });
  const filterSets: SessionFilters[] = [
    {},
    { search: "a" },
    { search: "AB" },
    { search: "ba" },
    { search: "aab" },
    { search: "gamma" },
    { search: "δσ" },
    { search: "id-" },
    { search: "-1" },
    { search: "alpha\u0000beta" },
    { search: "ops", agentId: "main" },
    { search: "team", label: "team ops", includeGlobal: true },
    { spawnedBy: "agent:main:main", search: "e" },
    { includeGlobal: true, search: "glo" },
  ];

  it.each(filterSets)("gives the same rows for a frozen (indexed) store: %j", (filters) => {
    const expected = selectSessionKeys(plain, filters, { now: 0 });
    expect(selectSessionKeys(frozen, filters, { now: 0 })).toEqual(expected);
    // Warm: the second call answers from the cached index.
    expect(selectSessionKeys(frozen, filters, { now: 0 })).toEqual(expected);
    if (filters.search !== undefined && Object.keys(filters).length === 1) {
      const byMatcher = Object.keys(plain).filter((key) => {
        const entry = plain[key] as SessionEntry;
        return key !== "global" && matchSessionSearchText({ key, entry }, filters.search ?? "");
      });
      expect([...expected].sort()).toEqual(byMatcher.sort());
    }
  });

  it("sorts by updatedAt, newest first, then by key", () => {
    const keys = selectSessionKeys(frozen, {}, { now: 0 });
    for (let index = 1; index < keys.length; index += 1) {
      const previous = plain[keys[index - 1] as string] as SessionEntry;
      const current = plain[keys[index] as string] as SessionEntry;
      expect(previous.updatedAt >= current.updatedAt).toBe(true);
      if (previous.updatedAt === current.updatedAt) {
        expect((keys[index - 1] as string) < (keys[index] as string)).toBe(true);
      }
    }
  });

  it("indexes a successor store from its predecessor's index with the same result", () => {
    const previous = Object.freeze({ ...plain });
    expect(selectSessionKeys(previous, { search: "a" }, { now: 0 }).length).toBeGreaterThan(0);
    const keys = Object.keys(plain);
    const changed: Record<string, SessionEntry> = { ...plain };
    // One entry moves to the top, one gets new text, one is removed, two are added.
    changed[keys[5] as string] = {
      ...(plain[keys[5] as string] as SessionEntry),
      updatedAt: 1_000,
    };
    changed[keys[6] as string] = {
      ...(plain[keys[6] as string] as SessionEntry),
      label: "zzz new",
    };
    delete changed[keys[7] as string];
    changed["agent:main:added-old"] = { sessionId: "added-old", updatedAt: -5 };
    changed["agent:main:added-mid"] = { sessionId: "added-mid zzz", updatedAt: 20 };
    const next = Object.freeze({ ...changed });
    linkStoreSuccessor(previous, next);
    for (const filters of [{}, { search: "zzz" }, { search: "a" }, { includeGlobal: true }]) {
      expect(selectSessionKeys(next, filters, { now: 0 })).toEqual(
        selectSessionKeys(changed, filters, { now: 0 }),
      );
    }
    expect(selectSessionKeys(next, {}, { now: 0 })[0]).toBe(keys[5]);
  });

  it("sees an entry replaced in a mutable store", () => {
    const store: Record<string, SessionEntry> = {
      "agent:main:a": { sessionId: "a", updatedAt: 1, label: "old" },
    };
    expect(selectSessionKeys(store, { search: "old" })).toEqual(["agent:main:a"]);
    store["agent:main:a"] = { sessionId: "a", updatedAt: 1, label: "new" };
    expect(selectSessionKeys(store, { search: "old" })).toEqual([]);
    (store["agent:main:a"] as SessionEntry).label = "changed in place";
    expect(selectSessionKeys(store, { search: "in place" })).toEqual(["agent:main:a"]);
  });
});
