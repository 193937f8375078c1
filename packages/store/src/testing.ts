import type { SessionEntry } from "@clawkeep/schema";
import { describe, expect, it } from "vitest";
import type { SessionStoreBackend, SessionStoreChange } from "./session-store-backend.ts";

/** Creates a fresh, empty store for one test. Called inside the test, so it may use fixtures. */
export type SessionStoreFactory = () => SessionStoreBackend | Promise<SessionStoreBackend>;

function entry(
  sessionId: string,
  updatedAt: number,
  extra: Record<string, unknown> = {},
): SessionEntry {
  return { sessionId, updatedAt, ...extra };
}

/**
 * The behaviour every `SessionStoreBackend` must have. Run it once per backend:
 *
 * ```ts
 * describeSessionStoreContract("memory", () => createMemorySessionStore());
 * ```
 */
export function describeSessionStoreContract(name: string, createStore: SessionStoreFactory): void {
  describe(`session store contract: ${name}`, () => {
    it("starts empty", async () => {
      const store = await createStore();
      expect(await store.snapshot()).toEqual({});
      expect(await store.get("agent:main:main")).toBeUndefined();
      expect(await store.list()).toEqual({ rows: [], total: 0 });
    });

    it("commits an update and resolves to the mutator's result", async () => {
      const store = await createStore();
      const result = await store.update((draft) => {
        draft["agent:main:main"] = entry("s-1", 100, { label: "Main" });
        return "done";
      });
      expect(result).toBe("done");
      expect(await store.get("agent:main:main")).toEqual(entry("s-1", 100, { label: "Main" }));
      expect(Object.keys(await store.snapshot())).toEqual(["agent:main:main"]);
    });

    it("resolves a mutator that returns its draft to the committed snapshot", async () => {
      const store = await createStore();
      const result = await store.update((draft) => {
        draft.a = entry("s-a", 1);
        return draft;
      });
      expect(result).toBe(await store.snapshot());
      expect(result).toEqual({ a: entry("s-a", 1) });
    });

    it("keeps unknown fields and key order of patched and untouched entries", async () => {
      const store = await createStore();
      await store.update((draft) => {
        draft.a = entry("s-a", 1, { futureField: { nested: [1, 2] }, label: "A" });
        draft.b = entry("s-b", 2, { zeta: true, alpha: "x" });
      });
      await store.update((draft) => {
        const current = draft.a as SessionEntry;
        current.label = "A2";
      });
      const snapshot = await store.snapshot();
      expect(snapshot.a).toEqual(entry("s-a", 1, { futureField: { nested: [1, 2] }, label: "A2" }));
      expect(Object.keys(snapshot.a as object)).toEqual([
        "sessionId",
        "updatedAt",
        "futureField",
        "label",
      ]);
      expect(Object.keys(snapshot.b as object)).toEqual([
        "sessionId",
        "updatedAt",
        "zeta",
        "alpha",
      ]);
    });

    it("hands out deeply frozen snapshots that later updates do not change", async () => {
      const store = await createStore();
      await store.update((draft) => {
        draft.a = entry("s-a", 1, { cliSessionIds: { claude: "c-1" } });
      });
      const before = await store.snapshot();
      expect(Object.isFrozen(before)).toBe(true);
      expect(Object.isFrozen(before.a)).toBe(true);
      expect(() => {
        (before.a as { cliSessionIds: Record<string, string> }).cliSessionIds.claude = "x";
      }).toThrow(TypeError);
      expect(() => {
        (before as Record<string, unknown>).b = entry("s-b", 2);
      }).toThrow(TypeError);
      await store.update((draft) => {
        draft.a = entry("s-a", 2);
      });
      expect(before.a).toEqual(entry("s-a", 1, { cliSessionIds: { claude: "c-1" } }));
      expect((await store.snapshot()).a).toEqual(entry("s-a", 2));
    });

    it("keeps the same snapshot and entry objects when an update changes nothing", async () => {
      const store = await createStore();
      await store.update((draft) => {
        draft.a = entry("s-a", 1);
        draft.b = entry("s-b", 2);
      });
      const before = await store.snapshot();
      await store.update((draft) => {
        // Reading, re-assigning an equal copy and deleting a missing key change nothing.
        const current = draft.a as SessionEntry;
        draft.a = { ...current };
        delete draft.missing;
        return Object.keys(draft).length;
      });
      expect(await store.snapshot()).toBe(before);
      await store.update((draft) => {
        draft.b = entry("s-b", 3);
      });
      const after = await store.snapshot();
      expect(after.a).toBe(before.a);
      expect(after.b).not.toBe(before.b);
    });

    it("gives a mutator private copies of the entries it reads", async () => {
      const store = await createStore();
      await store.update((draft) => {
        draft.a = entry("s-a", 1, { origin: { label: "x" } });
      });
      const frozen = await store.get("a");
      await store.update((draft) => {
        const copy = draft.a as SessionEntry & { origin: { label: string } };
        expect(Object.isFrozen(copy)).toBe(false);
        expect(copy).not.toBe(frozen);
        copy.origin.label = "y";
        expect(draft.a).toBe(copy);
      });
      expect(frozen).toEqual(entry("s-a", 1, { origin: { label: "x" } }));
      expect(await store.get("a")).toEqual(entry("s-a", 1, { origin: { label: "y" } }));
    });

    it("rolls back a throwing mutator alone when it shares a batch", async () => {
      const store = await createStore();
      const results = await Promise.allSettled([
        store.update((draft) => {
          draft.a = entry("s-a", 1);
        }),
        store.update((draft) => {
          draft.b = entry("s-b", 2);
          delete draft.a;
          throw new Error("boom");
        }),
        store.update(async (draft) => {
          await Promise.resolve();
          draft.c = entry("s-c", 3);
        }),
      ]);
      expect(results.map((result) => result.status)).toEqual([
        "fulfilled",
        "rejected",
        "fulfilled",
      ]);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: "boom" });
      expect(Object.keys(await store.snapshot())).toEqual(["a", "c"]);
      // Failures do not poison later updates.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await expect(
          store.update(() => {
            throw new Error("again");
          }),
        ).rejects.toThrow("again");
      }
      await store.update((draft) => {
        draft.d = entry("s-d", 4);
      });
      expect(Object.keys(await store.snapshot())).toEqual(["a", "c", "d"]);
    });

    it("rejects writing something that is not a session entry", async () => {
      const store = await createStore();
      await expect(
        store.update((draft) => {
          (draft as Record<string, unknown>).bad = { updatedAt: 1 };
        }),
      ).rejects.toMatchObject({ code: "INVALID_PARAMS" });
      await expect(
        store.update((draft) => {
          (draft as Record<string, unknown>).bad = [1, 2];
        }),
      ).rejects.toMatchObject({ code: "INVALID_PARAMS" });
      expect(await store.snapshot()).toEqual({});
    });

    it("runs concurrent read-modify-write updates one after another", async () => {
      const store = await createStore();
      await Promise.all(
        Array.from({ length: 10 }, () =>
          store.update((draft) => {
            const current = draft.counter as (SessionEntry & { count?: number }) | undefined;
            draft.counter = entry("s-counter", 1, { count: (current?.count ?? 0) + 1 });
          }),
        ),
      );
      expect(await store.get("counter")).toMatchObject({ count: 10 });
    });

    it("deletes keys, reporting the ones that existed", async () => {
      const store = await createStore();
      await store.update((draft) => {
        draft.a = entry("s-a", 1);
        draft.b = entry("s-b", 2);
      });
      expect(await store.delete(["a", "missing", "a"])).toEqual(["a"]);
      expect(Object.keys(await store.snapshot())).toEqual(["b"]);
      await store.update((draft) => {
        draft.b = undefined as unknown as SessionEntry;
      });
      expect(await store.snapshot()).toEqual({});
    });

    it("revokes the draft once the mutator has settled", async () => {
      const store = await createStore();
      let leaked: Record<string, unknown> | undefined;
      await store.update((draft) => {
        leaked = draft;
      });
      expect(() => leaked?.a).toThrow(TypeError);
      expect(await store.snapshot()).toEqual({});
    });

    it("normalises the delivery fields of the entries it writes", async () => {
      const store = await createStore();
      await store.update((draft) => {
        draft.a = entry("s-a", 1, {
          lastChannel: " WhatsApp ",
          lastTo: " +1555 ",
          lastAccountId: " acct-1 ",
        });
      });
      expect(await store.get("a")).toMatchObject({
        lastChannel: "whatsapp",
        lastTo: "+1555",
        lastAccountId: "acct-1",
        deliveryContext: { channel: "whatsapp", to: "+1555", accountId: "acct-1" },
      });
    });

    it("lists with filters, text, sort, offset and limit", async () => {
      const store = await createStore();
      await store.update((draft) => {
        draft["agent:main:main"] = entry("s-1", 500, { label: "Main" });
        draft["agent:main:subagent:x"] = entry("s-2", 400, { spawnedBy: "agent:main:main" });
        draft["agent:ops:main"] = entry("s-3", 300, { label: "Ops room" });
        draft["agent:main:cron:job"] = entry("s-4", 400);
      });
      const keys = (rows: { key: string }[]) => rows.map((row) => row.key);
      const all = await store.list();
      expect(all.total).toBe(4);
      expect(keys(all.rows)).toEqual([
        "agent:main:main",
        "agent:main:cron:job",
        "agent:main:subagent:x",
        "agent:ops:main",
      ]);
      expect(keys((await store.list({ agentId: "OPS" })).rows)).toEqual(["agent:ops:main"]);
      expect(keys((await store.list({ spawnedBy: "agent:main:main" })).rows)).toEqual([
        "agent:main:subagent:x",
      ]);
      expect(keys((await store.list({ label: "Main" })).rows)).toEqual(["agent:main:main"]);
      expect(keys((await store.list({ text: "room" })).rows)).toEqual(["agent:ops:main"]);
      expect(
        keys(
          (await store.list({ updatedAfter: 350, updatedBefore: 500, sort: "updatedAt-asc" })).rows,
        ),
      ).toEqual(["agent:main:cron:job", "agent:main:subagent:x"]);
      const page = await store.list({ sort: "key-asc", offset: 1, limit: 2 });
      expect(page.total).toBe(4);
      expect(keys(page.rows)).toEqual(["agent:main:main", "agent:main:subagent:x"]);
    });

    it("tells watchers what each commit created, patched and deleted", async () => {
      const store = await createStore();
      await store.update((draft) => {
        draft.a = entry("s-a", 1);
        draft.b = entry("s-b", 2);
      });
      const changes: SessionStoreChange[] = [];
      const unwatch = store.watch((change) => changes.push(change));
      try {
        await store.update((draft) => {
          draft.c = entry("s-c", 3);
          draft.a = entry("s-a", 5);
          delete draft.b;
        });
        await expect.poll(() => changes.length).toBeGreaterThan(0);
        const change = changes[0] as SessionStoreChange;
        expect({ ...change, snapshot: undefined }).toEqual({
          created: ["c"],
          patched: ["a"],
          deleted: ["b"],
          snapshot: undefined,
        });
        expect(change.snapshot).toBe(await store.snapshot());
      } finally {
        unwatch();
      }
      const seen = changes.length;
      await store.update((draft) => {
        draft.d = entry("s-d", 4);
      });
      expect(changes.length).toBe(seen);
    });
  });
}
