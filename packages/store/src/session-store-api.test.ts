import { readdirSync } from "node:fs";
import { mkdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { SessionEntry } from "@clawkeep/schema";
import { testdir } from "@clawkeep/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createFileSessionStore } from "./file-session-store.ts";
import {
  invalidateSessionStoreCache,
  loadSessionStore,
  readSessionStoreLockOwner,
  readSessionUpdatedAt,
  saveSessionStore,
  updateSessionStore,
  updateSessionStoreEntry,
  withSessionStoreLock,
} from "./session-store-api.ts";

const FIXTURE = new URL("./__fixtures__/openclaw-2026.2.12-sessions.json", import.meta.url);
const FIXED_TIME = new Date("2026-02-12T09:00:00.000Z");

afterEach(() => {
  invalidateSessionStoreCache();
});

function entry(
  sessionId: string,
  updatedAt: number,
  extra: Record<string, unknown> = {},
): SessionEntry {
  return { sessionId, updatedAt, ...extra };
}

/** A store path in a fresh temp dir, with `content` written the way openclaw writes it. */
async function storeWith(content?: unknown): Promise<string> {
  const dir = await testdir();
  const storePath = join(dir, "agents", "main", "sessions", "sessions.json");
  await mkdir(join(dir, "agents", "main", "sessions"), { recursive: true });
  if (content !== undefined) {
    await writeFile(
      storePath,
      typeof content === "string" ? content : JSON.stringify(content, null, 2),
    );
    await utimes(storePath, FIXED_TIME, FIXED_TIME);
  }
  return storePath;
}

/** Rewrites the file in place with new content of the same size and the same mtime. */
async function rewriteUnnoticeably(storePath: string, content: unknown): Promise<void> {
  const before = await stat(storePath);
  const text = JSON.stringify(content, null, 2);
  expect(Buffer.byteLength(text)).toBe(before.size);
  await writeFile(storePath, text);
  await utimes(storePath, FIXED_TIME, FIXED_TIME);
  const after = await stat(storePath);
  expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino]);
}

function leftovers(storePath: string): string[] {
  const dir = join(storePath, "..");
  return readdirSync(dir).filter((name) => name !== "sessions.json");
}

describe("loadSessionStore", () => {
  it("reads a missing file as an empty store (#111)", async () => {
    const storePath = await storeWith();
    expect(await loadSessionStore(storePath)).toEqual({});
  });

  it("rejects invalid JSON with STORE_CORRUPT naming the path, line and column (#111 reversed)", async () => {
    const storePath = await storeWith('{\n  "a": {\n    "sessionId": "x",\n    oops\n  }\n}');
    const error = await loadSessionStore(storePath).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: "STORE_CORRUPT",
      details: { path: storePath, line: 4, column: 5 },
    });
    expect((error as Error).message).toContain(storePath);
    expect((error as Error).message).toContain("line 4, column 5");
  });

  it("rejects a truncated file and an empty one with STORE_CORRUPT", async () => {
    const truncated = await storeWith('{\n  "a": {\n    "sessionId": "x",');
    await expect(loadSessionStore(truncated)).rejects.toMatchObject({
      code: "STORE_CORRUPT",
      details: { line: 3 },
    });
    const empty = await storeWith("");
    await expect(loadSessionStore(empty)).rejects.toMatchObject({ code: "STORE_CORRUPT" });
  });

  it("rejects JSON that is not an object with STORE_CORRUPT", async () => {
    for (const content of ["[]", "null", "42", '"text"']) {
      const storePath = await storeWith(content);
      await expect(loadSessionStore(storePath)).rejects.toMatchObject({ code: "STORE_CORRUPT" });
    }
  });

  it("migrates legacy field names on load (#97)", async () => {
    const storePath = await storeWith({
      a: {
        sessionId: "s-a",
        updatedAt: 1,
        provider: "slack",
        lastProvider: "telegram",
        room: "#x",
      },
    });
    const store = await loadSessionStore(storePath);
    expect(store.a).toEqual({
      sessionId: "s-a",
      updatedAt: 1,
      channel: "slack",
      lastChannel: "telegram",
      groupChannel: "#x",
    });
  });

  it("serves a second load within the TTL from memory, the same frozen object (#106)", async () => {
    const storePath = await storeWith({ a: entry("s-a", 1, { label: "one" }) });
    const first = await loadSessionStore(storePath);
    const second = await loadSessionStore(storePath);
    expect(second).toBe(first);
    // Proof that the cached load does not read: a rewrite that keeps size, mtime and inode is
    // not seen while the TTL runs.
    await rewriteUnnoticeably(storePath, { a: entry("s-a", 1, { label: "two" }) });
    expect((await loadSessionStore(storePath)).a?.label).toBe("one");
    expect((await loadSessionStore(storePath, { skipCache: true })).a?.label).toBe("two");
  });

  it("hands out frozen data: mutation throws and never reaches the next load (#107)", async () => {
    const storePath = await storeWith({
      a: entry("s-a", 1, {
        cliSessionIds: { claude: "c-1" },
        skillsSnapshot: { prompt: "p", skills: [{ name: "web" }] },
      }),
    });
    const store = (await loadSessionStore(storePath)) as Record<string, SessionEntry>;
    expect(() => {
      (store.a?.cliSessionIds as Record<string, string>).claude = "changed";
    }).toThrow(TypeError);
    expect(() => {
      (store.a?.skillsSnapshot?.skills[0] as { name: string }).name = "changed";
    }).toThrow(TypeError);
    expect(() => {
      store.b = entry("s-b", 2);
    }).toThrow(TypeError);
    // A spread copy can gain and lose keys; its entries stay shared and frozen.
    const copy = { ...store, b: entry("s-b", 2) };
    expect(Object.keys(copy)).toEqual(["a", "b"]);
    const next = await loadSessionStore(storePath, { skipCache: true });
    expect(next.a?.cliSessionIds).toEqual({ claude: "c-1" });
    expect(next.a?.skillsSnapshot?.skills[0]?.name).toBe("web");
    expect(Object.keys(next)).toEqual(["a"]);
  });

  it("sees an external rewrite that changed the mtime (#108)", async () => {
    const storePath = await storeWith({ a: entry("s-a", 1) });
    expect(Object.keys(await loadSessionStore(storePath))).toEqual(["a"]);
    await writeFile(storePath, JSON.stringify({ b: entry("s-b", 2) }, null, 2));
    await utimes(storePath, FIXED_TIME, new Date(FIXED_TIME.getTime() + 5000));
    expect(Object.keys(await loadSessionStore(storePath))).toEqual(["b"]);
  });

  it("sees its own save at once (#109)", async () => {
    const storePath = await storeWith({ a: entry("s-a", 1) });
    await loadSessionStore(storePath);
    await saveSessionStore(storePath, { b: entry("s-b", 2) });
    expect(await loadSessionStore(storePath)).toEqual({ b: entry("s-b", 2) });
  });

  it.each(["CLAWKEEP_SESSION_CACHE_TTL_MS", "OPENCLAW_SESSION_CACHE_TTL_MS"])(
    "reads the disk on every load when %s=0 (#110)",
    async (name) => {
      vi.stubEnv("CLAWKEEP_SESSION_CACHE_TTL_MS", "");
      vi.stubEnv("OPENCLAW_SESSION_CACHE_TTL_MS", "");
      vi.stubEnv(name, "0");
      const storePath = await storeWith({ a: entry("s-a", 1, { label: "one" }) });
      expect((await loadSessionStore(storePath)).a?.label).toBe("one");
      await rewriteUnnoticeably(storePath, { a: entry("s-a", 1, { label: "two" }) });
      expect((await loadSessionStore(storePath)).a?.label).toBe("two");
    },
  );

  it("reads the disk again once a short cacheTtlMs has passed", async () => {
    const storePath = await storeWith({ a: entry("s-a", 1, { label: "one" }) });
    expect((await loadSessionStore(storePath, { cacheTtlMs: 200 })).a?.label).toBe("one");
    await rewriteUnnoticeably(storePath, { a: entry("s-a", 1, { label: "two" }) });
    expect((await loadSessionStore(storePath, { cacheTtlMs: 200 })).a?.label).toBe("one");
    await sleep(250);
    expect((await loadSessionStore(storePath, { cacheTtlMs: 200 })).a?.label).toBe("two");
  });

  it("returns the shared snapshot without parsing when the bytes are unchanged", async () => {
    vi.stubEnv("CLAWKEEP_SESSION_CACHE_TTL_MS", "0");
    const storePath = await storeWith({ a: entry("s-a", 1) });
    const first = await loadSessionStore(storePath);
    expect(await loadSessionStore(storePath)).toBe(first);
  });
});

describe("loadSessionStore with the default cache TTL", () => {
  // Only `Date` is faked: no lock is taken here, and file times come from the file system.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("serves the cache for 45 s after a load and reads the disk after that", async () => {
    vi.stubEnv("CLAWKEEP_SESSION_CACHE_TTL_MS", "");
    vi.stubEnv("OPENCLAW_SESSION_CACHE_TTL_MS", "");
    const storePath = await storeWith({ a: entry("s-a", 1, { label: "one" }) });
    const loadedAt = Date.parse("2026-03-01T12:00:00.000Z");
    vi.setSystemTime(loadedAt);
    expect((await loadSessionStore(storePath)).a?.label).toBe("one");
    await rewriteUnnoticeably(storePath, { a: entry("s-a", 1, { label: "two" }) });
    vi.setSystemTime(loadedAt + 45_000);
    expect((await loadSessionStore(storePath)).a?.label).toBe("one");
    vi.setSystemTime(loadedAt + 45_001);
    expect((await loadSessionStore(storePath)).a?.label).toBe("two");
  });
});

describe("loadSessionStore racing this process's updates", () => {
  // Big enough that comparing the file takes a while, so that commits land inside loads.
  const INITIAL_ENTRIES = 1500;
  const UPDATES = 40;

  it.each([
    ["skipCache", { skipCache: true }],
    ["a TTL of 0", { cacheTtlMs: 0 }],
  ])(
    "never returns fewer entries than were committed before it started (%s)",
    async (_name, options) => {
      const storePath = await storeWith(
        Object.fromEntries(
          Array.from({ length: INITIAL_ENTRIES }, (_, index) => [
            `agent:main:${index}`,
            entry(`s-${index}`, index, { label: "x".repeat(2000) }),
          ]),
        ),
      );
      await loadSessionStore(storePath);
      let committed = INITIAL_ENTRIES;
      let writing = true;
      let loads = 0;
      const shortfalls: { committedBefore: number; returned: number }[] = [];
      const writer = (async () => {
        try {
          for (let round = 0; round < UPDATES; round += 1) {
            await updateSessionStore(storePath, (store) => {
              store[`agent:main:new-${round}`] = entry(`s-new-${round}`, round);
            });
            committed += 1;
          }
        } finally {
          writing = false;
        }
      })();
      const readers = Array.from({ length: 3 }, async () => {
        while (writing) {
          const committedBefore = committed;
          const returned = Object.keys(await loadSessionStore(storePath, options)).length;
          loads += 1;
          if (returned < committedBefore) shortfalls.push({ committedBefore, returned });
        }
      });
      await Promise.all([writer, ...readers]);
      expect(shortfalls).toEqual([]);
      expect(loads).toBeGreaterThan(UPDATES);
      expect(Object.keys(await loadSessionStore(storePath))).toHaveLength(
        INITIAL_ENTRIES + UPDATES,
      );
    },
  );
});

describe("updateSessionStore", () => {
  it("round-trips the openclaw fixture byte for byte when nothing changes", async () => {
    const original = await readFile(FIXTURE);
    const storePath = await storeWith(original.toString());
    const before = await stat(storePath);
    const count = await updateSessionStore(storePath, (store) => Object.keys(store).length);
    expect(count).toBe(5);
    const after = await stat(storePath);
    expect(await readFile(storePath)).toEqual(original);
    // Not rewritten at all: same inode, same mtime.
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    await saveSessionStore(storePath, await loadSessionStore(storePath));
    expect((await stat(storePath)).ino).toBe(before.ino);
  });

  it("patches one entry of the fixture and keeps every other byte", async () => {
    const original = (await readFile(FIXTURE)).toString();
    const storePath = await storeWith(original);
    await updateSessionStore(storePath, (store) => {
      const main = store["agent:main:main"] as SessionEntry;
      main.thinkingLevel = "high";
    });
    const written = await readFile(storePath, "utf8");
    const expected = JSON.parse(original) as Record<string, Record<string, unknown>>;
    (expected["agent:main:main"] as Record<string, unknown>).thinkingLevel = "high";
    expect(written).toBe(JSON.stringify(expected, null, 2));
    expect(written.endsWith("}")).toBe(true);
    // Every other entry's text is exactly what openclaw wrote.
    const untouched = original.slice(original.indexOf('  "agent:main:telegram'));
    expect(written.endsWith(untouched)).toBe(true);
  });

  it("keeps unknown fields of the patched entry and of the others", async () => {
    const storePath = await storeWith({
      a: entry("s-a", 1, { futureField: { x: [1, { y: 2 }] }, label: "A" }),
      b: entry("s-b", 2, { anotherUnknown: "kept", nested: { deep: true } }),
    });
    await updateSessionStore(storePath, (store) => {
      (store.a as SessionEntry).label = "A2";
    });
    const onDisk = JSON.parse(await readFile(storePath, "utf8"));
    expect(onDisk).toEqual({
      a: entry("s-a", 1, { futureField: { x: [1, { y: 2 }] }, label: "A2" }),
      b: entry("s-b", 2, { anotherUnknown: "kept", nested: { deep: true } }),
    });
  });

  it("writes 2-space JSON without a trailing newline, mode 0600, leaving no temp files", async () => {
    const storePath = await storeWith();
    await updateSessionStore(storePath, (store) => {
      store.a = entry("s-a", 1);
    });
    const text = await readFile(storePath, "utf8");
    expect(text).toBe(JSON.stringify({ a: entry("s-a", 1) }, null, 2));
    expect((await stat(storePath)).mode & 0o777).toBe(0o600);
    expect(leftovers(storePath)).toEqual([]);
  });

  it("adds keys from two concurrent updates (#93)", async () => {
    const storePath = await storeWith({});
    await Promise.all([
      updateSessionStore(storePath, (store) => {
        store.a = entry("s-a", 1);
      }),
      updateSessionStore(storePath, (store) => {
        store.b = entry("s-b", 2);
      }),
    ]);
    expect(Object.keys(JSON.parse(await readFile(storePath, "utf8")))).toEqual(["a", "b"]);
  });

  it("refuses to overwrite a store that is an array, leaving it untouched (#94 reversed)", async () => {
    const storePath = await storeWith("[]");
    await expect(
      updateSessionStore(storePath, (store) => {
        store.a = entry("s-a", 1);
      }),
    ).rejects.toMatchObject({ code: "STORE_CORRUPT" });
    expect(await readFile(storePath, "utf8")).toBe("[]");
    expect(leftovers(storePath)).toEqual([]);
  });

  it("refuses to overwrite invalid JSON through every writer", async () => {
    const broken = '{\n  "a": {\n    "sessionId": "s-a",\n';
    const storePath = await storeWith(broken);
    await expect(saveSessionStore(storePath, {})).rejects.toMatchObject({ code: "STORE_CORRUPT" });
    await expect(
      updateSessionStoreEntry({ storePath, sessionKey: "a", update: () => ({ label: "x" }) }),
    ).rejects.toMatchObject({ code: "STORE_CORRUPT" });
    expect(await readFile(storePath, "utf8")).toBe(broken);
    expect(await readSessionUpdatedAt({ storePath, sessionKey: "a" })).toBeUndefined();
  });

  it("normalises delivery fields of written entries (#95)", async () => {
    const storePath = await storeWith({});
    await updateSessionStore(storePath, (store) => {
      store.a = entry("s-a", 1, {
        lastChannel: " WhatsApp ",
        lastTo: " +1555 ",
        lastAccountId: " acct-1 ",
      });
    });
    expect(JSON.parse(await readFile(storePath, "utf8")).a).toEqual({
      sessionId: "s-a",
      updatedAt: 1,
      lastChannel: "whatsapp",
      lastTo: "+1555",
      lastAccountId: "acct-1",
      deliveryContext: { channel: "whatsapp", to: "+1555", accountId: "acct-1" },
    });
  });

  it("keeps a concurrent delete and a concurrent add (#96)", async () => {
    const storePath = await storeWith({ a: entry("s-a", 1), b: entry("s-b", 2) });
    await Promise.all([
      updateSessionStore(storePath, (store) => {
        delete store.a;
      }),
      updateSessionStore(storePath, (store) => {
        store.c = entry("s-c", 3);
      }),
    ]);
    expect(Object.keys(JSON.parse(await readFile(storePath, "utf8")))).toEqual(["b", "c"]);
  });

  it("counts to 10 with concurrent read-modify-write increments (#102)", async () => {
    const storePath = await storeWith({});
    await Promise.all(
      Array.from({ length: 10 }, () =>
        updateSessionStore(storePath, (store) => {
          const count = ((store.counter as { count?: number } | undefined)?.count ?? 0) + 1;
          store.counter = entry("s-counter", 1, { count });
        }),
      ),
    );
    expect(JSON.parse(await readFile(storePath, "utf8")).counter.count).toBe(10);
  });

  it("shares one lock and one write among updates issued together", async () => {
    const storePath = await storeWith({});
    const store = createFileSessionStore(storePath);
    const commits: number[] = [];
    const unwatch = store.watch((change) => commits.push(change.created.length));
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          updateSessionStore(storePath, (draft) => {
            draft[`k${index}`] = entry(`s-${index}`, index);
          }),
        ),
      );
      expect(commits).toEqual([20]);
    } finally {
      unwatch();
    }
  });

  it("rejects a throwing mutator, releases the lock and lets queued updates through (#103)", async () => {
    const storePath = await storeWith({ a: entry("s-a", 1) });
    const failing = updateSessionStore(storePath, () => {
      throw new Error("mutator failed");
    });
    const later = updateSessionStore(storePath, (store) => {
      store.b = entry("s-b", 2);
      return "later";
    });
    await expect(failing).rejects.toThrow("mutator failed");
    await expect(later).resolves.toBe("later");
    for (let index = 0; index < 3; index += 1) {
      await expect(
        updateSessionStore(storePath, async () => {
          await sleep(1);
          throw new Error(`failure ${index}`);
        }),
      ).rejects.toThrow(`failure ${index}`);
    }
    await updateSessionStore(storePath, (store) => {
      store.c = entry("s-c", 3);
    });
    expect(Object.keys(JSON.parse(await readFile(storePath, "utf8")))).toEqual(["a", "b", "c"]);
    expect(leftovers(storePath)).toEqual([]);
  });

  it("holds the lock, with its owner recorded, only while the mutator runs (#104)", async () => {
    const storePath = await storeWith({});
    await updateSessionStore(storePath, async (store) => {
      const owner = await readSessionStoreLockOwner(storePath);
      expect(owner).toMatchObject({
        kind: "file",
        pid: process.pid,
        lockPath: `${storePath}.lock`,
      });
      expect(owner?.createdAt).toBeGreaterThan(Date.now() - 10_000);
      store.a = entry("s-a", 1);
    });
    expect(await readSessionStoreLockOwner(storePath)).toBeUndefined();
    expect(leftovers(storePath)).toEqual([]);
  });

  it("re-reads under the lock what the cache cannot see (a same-size, same-mtime rewrite)", async () => {
    const storePath = await storeWith({ counter: entry("s-c", 1, { count: 1 }) });
    expect((await loadSessionStore(storePath)).counter).toMatchObject({ count: 1 });
    await rewriteUnnoticeably(storePath, { counter: entry("s-c", 1, { count: 7 }) });
    await updateSessionStore(storePath, (store) => {
      const count = (store.counter as unknown as { count: number }).count + 1;
      store.counter = entry("s-c", 1, { count });
    });
    expect(JSON.parse(await readFile(storePath, "utf8")).counter.count).toBe(8);
  });

  it("acts on the fresh state when the file changed behind the cache between two updates", async () => {
    const storePath = await storeWith({ a: entry("s-a", 1) });
    await updateSessionStore(storePath, (store) => {
      store.b = entry("s-b", 2);
    });
    // Another writer (here a plain write, bypassing this process's cache) changes one entry and
    // adds another.
    await writeFile(
      storePath,
      JSON.stringify({ a: entry("s-a", 10), b: entry("s-b", 2), c: entry("s-c", 3) }, null, 2),
    );
    const seen: string[][] = [];
    const result = await updateSessionStore(storePath, (store) => {
      seen.push(Object.keys(store));
      store.d = entry("s-d", (store.a?.updatedAt ?? 0) + 1);
      return Object.keys(store).join(",");
    });
    // The first run, on the cached state, overlapped the check of the file; the check found the
    // change and the mutator ran again on the fresh state, whose result alone counts.
    expect(seen).toEqual([
      ["a", "b"],
      ["a", "b", "c"],
    ]);
    expect(result).toBe("a,b,c,d");
    const written = JSON.parse(await readFile(storePath, "utf8")) as Record<string, SessionEntry>;
    expect(Object.keys(written)).toEqual(["a", "b", "c", "d"]);
    expect(written.a?.updatedAt).toBe(10);
    expect(written.d?.updatedAt).toBe(11);
    expect((await loadSessionStore(storePath)).c).toEqual(entry("s-c", 3));
    expect(leftovers(storePath)).toEqual([]);

    // Someone else is writing this store: the next update waits for its check instead of
    // running (and writing) on a cached state that is probably stale again.
    await writeFile(storePath, JSON.stringify({ e: entry("s-e", 5) }, null, 2));
    const runs: string[][] = [];
    await updateSessionStore(storePath, (store) => {
      runs.push(Object.keys(store));
      store.f = entry("s-f", 6);
    });
    expect(runs).toEqual([["e"]]);
    expect(Object.keys(JSON.parse(await readFile(storePath, "utf8")))).toEqual(["e", "f"]);
  });

  it("takes each mutator's outcome from the run on the fresh state only", async () => {
    const storePath = await storeWith({ a: entry("s-a", 1) });
    await loadSessionStore(storePath);
    await writeFile(storePath, JSON.stringify({ b: entry("s-b", 2) }, null, 2));
    const needsB = updateSessionStore(storePath, (store) => {
      if (store.b === undefined) throw new Error("no b");
      store.b = { ...store.b, label: "seen" };
      return "b found";
    });
    const needsA = updateSessionStore(storePath, (store) => {
      if (store.a === undefined) throw new Error("no a");
      store.a = { ...store.a, label: "seen" };
      return "a found";
    });
    const adds = updateSessionStore(storePath, (store) => {
      store.c = entry("s-c", 3);
      return Object.keys(store).length;
    });
    // Threw on the cached state, not on the fresh one: resolves. The reverse: rejects, alone.
    await expect(needsB).resolves.toBe("b found");
    await expect(needsA).rejects.toThrow("no a");
    await expect(adds).resolves.toBe(2);
    expect(JSON.parse(await readFile(storePath, "utf8"))).toEqual({
      b: entry("s-b", 2, { label: "seen" }),
      c: entry("s-c", 3),
    });
    expect(leftovers(storePath)).toEqual([]);
  });

  it("leaves a store made corrupt behind the cache untouched, with no temp file", async () => {
    const storePath = await storeWith({ a: entry("s-a", 1) });
    await loadSessionStore(storePath);
    const broken = '{\n  "a": {\n    "sessionId": "s-a",\n';
    await writeFile(storePath, broken);
    const runs: string[] = [];
    await expect(
      updateSessionStore(storePath, (store) => {
        runs.push(Object.keys(store).join(","));
        store.b = entry("s-b", 2);
      }),
    ).rejects.toMatchObject({ code: "STORE_CORRUPT" });
    // It ran on the cached state while the file was being checked; nothing of it was committed.
    expect(runs).toEqual(["a"]);
    expect(await readFile(storePath, "utf8")).toBe(broken);
    expect(leftovers(storePath)).toEqual([]);
  });

  it("removes temp files of dead writers and keeps those of live ones", async () => {
    const storePath = await storeWith({});
    const dir = join(storePath, "..");
    const dead = join(dir, "sessions.json.999999999.abc123.tmp");
    const openclawDead = join(
      dir,
      "sessions.json.999999998.4b1c9d2e-1111-2222-3333-444455556666.tmp",
    );
    const live = join(dir, `sessions.json.${process.pid}.def456.tmp`);
    await Promise.all([writeFile(dead, "x"), writeFile(openclawDead, "x"), writeFile(live, "x")]);
    await updateSessionStore(storePath, (store) => {
      store.a = entry("s-a", 1);
    });
    expect(leftovers(storePath)).toEqual([`sessions.json.${process.pid}.def456.tmp`]);
  });

  it("fails at once when a mutator updates its own store", async () => {
    const storePath = await storeWith({});
    await expect(
      updateSessionStore(storePath, async () => {
        await updateSessionStore(storePath, () => undefined);
      }),
    ).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: expect.stringContaining(storePath),
      details: { store: storePath },
    });
    await expect(
      withSessionStoreLock(storePath, () => updateSessionStore(storePath, () => undefined)),
    ).rejects.toMatchObject({ code: "UNAVAILABLE", details: { store: storePath } });
  });
});

describe("updateSessionStoreEntry", () => {
  it("merges the patch and keeps other fields (#91)", async () => {
    const storePath = await storeWith({ a: entry("s-a", 100, { reasoningLevel: "on" }) });
    const updated = await updateSessionStoreEntry({
      storePath,
      sessionKey: "a",
      update: () => ({ updatedAt: 200 }),
    });
    expect(updated?.updatedAt).toBeGreaterThanOrEqual(200);
    expect(updated?.reasoningLevel).toBe("on");
    expect(JSON.parse(await readFile(storePath, "utf8")).a).toEqual(updated);
  });

  it("returns null for a missing key and the entry as it was for a null patch (#92)", async () => {
    const storePath = await storeWith({ a: entry("s-a", 100) });
    const update = vi.fn(() => ({ label: "x" }));
    expect(await updateSessionStoreEntry({ storePath, sessionKey: "missing", update })).toBeNull();
    expect(update).not.toHaveBeenCalled();
    const before = await stat(storePath);
    const result = await updateSessionStoreEntry({
      storePath,
      sessionKey: "a",
      update: () => null,
    });
    expect(result).toEqual(entry("s-a", 100));
    expect(result).toBe((await loadSessionStore(storePath)).a);
    expect((await stat(storePath)).mtimeMs).toBe(before.mtimeMs);
  });

  it("persists both fields of two concurrent entry updates and removes the lock (#101)", async () => {
    const storePath = await storeWith({ a: entry("s-a", 100) });
    await Promise.all([
      updateSessionStoreEntry({
        storePath,
        sessionKey: "a",
        update: async () => {
          await sleep(50);
          return { modelOverride: "anthropic/claude-opus-4-6" };
        },
      }),
      updateSessionStoreEntry({
        storePath,
        sessionKey: "a",
        update: async () => {
          await sleep(10);
          return { thinkingLevel: "high" };
        },
      }),
    ]);
    expect(JSON.parse(await readFile(storePath, "utf8")).a).toMatchObject({
      modelOverride: "anthropic/claude-opus-4-6",
      thinkingLevel: "high",
    });
    expect(leftovers(storePath)).toEqual([]);
  });

  it("reads the entry fresh under the lock, never from a stale cache", async () => {
    const storePath = await storeWith({ a: entry("s-a", 100, { label: "one" }) });
    await loadSessionStore(storePath);
    await rewriteUnnoticeably(storePath, { a: entry("s-a", 100, { label: "two" }) });
    const seen: string[] = [];
    const committed = await updateSessionStoreEntry({
      storePath,
      sessionKey: "a",
      update: (current) => {
        seen.push(current.label ?? "");
        return { thinkingLevel: "low" };
      },
    });
    // The first run, on the cached entry, overlaps the check of the file; the check finds the
    // rewrite and the update runs again on the fresh entry, which alone is committed.
    expect(seen).toEqual(["one", "two"]);
    expect(committed).toMatchObject({ label: "two", thinkingLevel: "low" });
    expect(JSON.parse(await readFile(storePath, "utf8")).a).toMatchObject({
      label: "two",
      thinkingLevel: "low",
    });
  });
});

describe("saveSessionStore", () => {
  it("writes what it is given: values, removals and key order", async () => {
    const storePath = await storeWith({
      a: entry("s-a", 1),
      b: entry("s-b", 2),
      c: entry("s-c", 3),
    });
    const loaded = await loadSessionStore(storePath);
    await saveSessionStore(storePath, { c: loaded.c as SessionEntry, a: entry("s-a", 9) });
    expect(await readFile(storePath, "utf8")).toBe(
      JSON.stringify({ c: entry("s-c", 3), a: entry("s-a", 9) }, null, 2),
    );
  });
});

describe("readSessionUpdatedAt", () => {
  it("reads updatedAt, or undefined for a missing key or file", async () => {
    const storePath = await storeWith({ a: entry("s-a", 123) });
    expect(await readSessionUpdatedAt({ storePath, sessionKey: "a" })).toBe(123);
    expect(await readSessionUpdatedAt({ storePath, sessionKey: "b" })).toBeUndefined();
    expect(
      await readSessionUpdatedAt({
        storePath: join(storePath, "..", "none.json"),
        sessionKey: "a",
      }),
    ).toBeUndefined();
  });
});

describe("withSessionStoreLock", () => {
  it("runs after queued updates and before later ones, holding the lock", async () => {
    const storePath = await storeWith({});
    const order: string[] = [];
    const first = updateSessionStore(storePath, async (store) => {
      await sleep(20);
      store.a = entry("s-a", 1);
      order.push("update-1");
    });
    const locked = withSessionStoreLock(storePath, async (lock) => {
      order.push("lock");
      expect(lock.lockPath).toBe(`${storePath}.lock`);
      expect(lock.signal.aborted).toBe(false);
      expect((await readSessionStoreLockOwner(storePath))?.pid).toBe(process.pid);
      return "locked";
    });
    const second = updateSessionStore(storePath, (store) => {
      store.b = entry("s-b", 2);
      order.push("update-2");
    });
    expect(await Promise.all([first, locked, second])).toEqual([undefined, "locked", undefined]);
    expect(order).toEqual(["update-1", "lock", "update-2"]);
  });
});
