import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { testdir } from "@clawkeep/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { writeFileAtomically } from "./atomic-write.ts";
import { createFileSessionStore } from "./file-session-store.ts";
import { invalidateSessionStoreCache, loadSessionStore } from "./session-store-api.ts";
import type { SessionStoreChange } from "./session-store-backend.ts";

afterEach(() => {
  invalidateSessionStoreCache();
});

function entry(sessionId: string, updatedAt: number, extra: Record<string, unknown> = {}) {
  return { sessionId, updatedAt, ...extra };
}

async function storeFile(content: unknown): Promise<string> {
  const path = join(await testdir(), "sessions.json");
  await writeFile(path, JSON.stringify(content, null, 2));
  return path;
}

function summary(change: SessionStoreChange | undefined) {
  return change && { created: change.created, patched: change.patched, deleted: change.deleted };
}

describe("createFileSessionStore watch", () => {
  it("reports changes written by another process, diffed per key", async () => {
    const path = await storeFile({ a: entry("s-a", 1), b: entry("s-b", 2) });
    const store = createFileSessionStore(path, { watchDebounceMs: 20 });
    await store.snapshot();
    const changes: SessionStoreChange[] = [];
    const unwatch = store.watch((change) => changes.push(change));
    try {
      // Another writer replaces the file the way every writer here does: temp file and rename.
      await writeFileAtomically(
        path,
        JSON.stringify({ a: entry("s-a", 5), c: entry("s-c", 3), b: entry("s-b", 2) }, null, 2),
      );
      await expect.poll(() => changes.length).toBe(1);
      expect(summary(changes[0])).toEqual({ created: ["c"], patched: ["a"], deleted: [] });
      expect(changes[0]?.snapshot.a).toEqual(entry("s-a", 5));
      expect(await store.get("c")).toEqual(entry("s-c", 3));
    } finally {
      unwatch();
    }
  });

  it("reports its own commits once, not again when the rename is seen", async () => {
    const path = await storeFile({});
    const store = createFileSessionStore(path, { watchDebounceMs: 10 });
    const changes: SessionStoreChange[] = [];
    const unwatch = store.watch((change) => changes.push(change));
    try {
      await store.update((draft) => {
        draft.a = entry("s-a", 1);
      });
      await sleep(150);
      expect(changes.map(summary)).toEqual([{ created: ["a"], patched: [], deleted: [] }]);
    } finally {
      unwatch();
    }
  });

  it("reports no deletion while loads race its own updates", async () => {
    const path = await storeFile({ a: entry("s-a", 1) });
    const store = createFileSessionStore(path, { watchDebounceMs: 5, cacheTtlMs: 0 });
    await store.snapshot();
    const changes: SessionStoreChange[] = [];
    const unwatch = store.watch((change) => changes.push(change));
    let writing = true;
    try {
      const writer = (async () => {
        try {
          for (let round = 0; round < 60; round += 1) {
            await store.update((draft) => {
              draft.a = entry("s-a", round + 2);
              draft[`b${round}`] = entry(`s-b${round}`, round);
            });
          }
        } finally {
          writing = false;
        }
      })();
      const readers = [
        (async () => {
          while (writing) await store.snapshot();
        })(),
        (async () => {
          while (writing) await loadSessionStore(path, { cacheTtlMs: 0 });
        })(),
      ];
      await Promise.all([writer, ...readers]);
      await sleep(50);
      expect(changes.flatMap((change) => change.deleted)).toEqual([]);
      // Each key is reported created once, by its commit: not again after a false deletion, nor
      // by a load that read the new file while the commit was still installing it.
      const created = changes.flatMap((change) => change.created);
      expect(created).toHaveLength(60);
      expect(new Set(created).size).toBe(60);
    } finally {
      unwatch();
    }
  }, 30_000);

  it("passes an unreadable rewrite to onError and keeps the last good snapshot", async () => {
    const path = await storeFile({ a: entry("s-a", 1) });
    const store = createFileSessionStore(path, { watchDebounceMs: 10 });
    const before = await store.snapshot();
    const errors: unknown[] = [];
    const changes: SessionStoreChange[] = [];
    const unwatch = store.watch((change) => changes.push(change), {
      onError: (error) => errors.push(error),
    });
    try {
      await writeFileAtomically(path, '{"a": ');
      await expect.poll(() => errors.length).toBeGreaterThan(0);
      expect(errors[0]).toMatchObject({ code: "STORE_CORRUPT" });
      expect(changes).toEqual([]);
      await writeFileAtomically(path, JSON.stringify({}, null, 2));
      await expect.poll(() => changes.length).toBe(1);
      expect(summary(changes[0])).toEqual({ created: [], patched: [], deleted: ["a"] });
      expect(before).toEqual({ a: entry("s-a", 1) });
    } finally {
      unwatch();
    }
  });
});

describe("createFileSessionStore", () => {
  it("shares cache and queue with other instances for the same path", async () => {
    const path = await storeFile({});
    const first = createFileSessionStore(path);
    const second = createFileSessionStore(join(path, "..", ".", "sessions.json"));
    expect(second.storePath).toBe(first.storePath);
    await Promise.all([
      first.update((draft) => {
        draft.a = entry("s-a", 1);
      }),
      second.update((draft) => {
        draft.b = entry("s-b", 2);
      }),
    ]);
    expect(await first.snapshot()).toBe(await second.snapshot());
    expect(Object.keys(await first.snapshot())).toEqual(["a", "b"]);
  });

  it("replaces the whole store", async () => {
    const path = await storeFile({ a: entry("s-a", 1), b: entry("s-b", 2) });
    const store = createFileSessionStore(path);
    await store.replace({ c: entry("s-c", 3) });
    expect(await store.snapshot()).toEqual({ c: entry("s-c", 3) });
  });
});
