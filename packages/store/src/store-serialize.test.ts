import { describe, expect, it } from "vitest";
import type { SessionStoreSnapshot } from "./session-store-backend.ts";
import type { LayoutMember, ReplacedMember, StoreLayout } from "./store-serialize.ts";
import { assembleStore, patchLayout, serializeMember, serializeStore } from "./store-serialize.ts";

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const AWKWARD_KEYS = [
  "agent:main:main",
  "agent:main:telegram:group:-100123:topic:7",
  'quote"and\\backslash',
  "line\nbreak",
  "émoji 🦀 ключ",
  "__proto__",
  "12",
  ',\n  "',
];

function layoutOf(store: Record<string, unknown>): StoreLayout {
  return serializeStore(store as SessionStoreSnapshot, Object.keys(store).length);
}

function text(layout: StoreLayout): string {
  return layout.bytes.toString("utf8");
}

function piece(key: string, value: unknown): Buffer {
  return Buffer.from(serializeMember(key, value).member);
}

function makeEntry(next: () => number, index: number): Record<string, unknown> {
  return {
    sessionId: `s-${index}`,
    updatedAt: Math.floor(next() * 1e12),
    label: next() > 0.5 ? `label ${index} "quoted" ,\n  "tricky"` : undefined,
    nested: { list: [1, "two", { three: null }], empty: {}, none: [] },
    unicode: "ü🦀",
  };
}

function expectRanges(layout: StoreLayout, store: Record<string, unknown>): void {
  for (const [index, key] of Object.keys(store).entries()) {
    const member = layout.bytes.subarray(layout.starts[index], layout.ends[index]).toString();
    expect(member).toBe(serializeMember(key, store[key]).member);
  }
}

describe("serializeStore", () => {
  it("is JSON.stringify(store, null, 2) and finds every member", () => {
    const store: Record<string, unknown> = {};
    for (const [index, key] of AWKWARD_KEYS.entries()) {
      Object.defineProperty(store, key, {
        value: { sessionId: `s-${index}`, updatedAt: index },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const layout = layoutOf(store);
    expect(text(layout)).toBe(JSON.stringify(store, null, 2));
    expectRanges(layout, store);
  });

  it("writes an empty store as {}", () => {
    expect(text(layoutOf({}))).toBe("{}");
  });
});

describe("assembleStore and patchLayout", () => {
  it("stay byte-identical to JSON.stringify through random edits", () => {
    const next = random(42);
    let store: Record<string, unknown> = {};
    for (let index = 0; index < 40; index += 1) store[`key-${index}`] = makeEntry(next, index);
    let layout = layoutOf(store);
    let created = 40;
    for (let round = 0; round < 300; round += 1) {
      const keys = Object.keys(store);
      // Every third round removes keys, which needs a reassembly; the others only replace and
      // append, which is a patch.
      const removing = round % 3 === 0;
      const changed = new Map<string, unknown>();
      const removed = new Set<string>();
      for (const key of keys) {
        const roll = next();
        if (removing && roll < 0.05) removed.add(key);
        else if (roll < 0.12) changed.set(key, makeEntry(next, created++));
      }
      const added = Array.from({ length: Math.floor(next() * 3) }, () => `key-${created++}`);
      const nextStore: Record<string, unknown> = {};
      const members: LayoutMember[] = [];
      const replaced: ReplacedMember[] = [];
      const appended: Buffer[] = [];
      for (const [index, key] of keys.entries()) {
        if (removed.has(key)) continue;
        const value = changed.get(key);
        if (value === undefined) {
          nextStore[key] = store[key];
          members.push({ previousIndex: index });
        } else {
          nextStore[key] = value;
          members.push({ piece: piece(key, value) });
          replaced.push({ index, piece: piece(key, value) });
        }
      }
      for (const key of added) {
        const value = makeEntry(next, created++);
        nextStore[key] = value;
        members.push({ piece: piece(key, value) });
        appended.push(piece(key, value));
      }
      const assembled = assembleStore(members, layout);
      if (!removing) {
        const patched = patchLayout(layout, replaced, appended);
        expect(patched.bytes.equals(assembled.bytes)).toBe(true);
        expect(Array.from(patched.starts)).toEqual(Array.from(assembled.starts));
        expect(Array.from(patched.ends)).toEqual(Array.from(assembled.ends));
      }
      layout = assembled;
      store = nextStore;
      expect(text(layout)).toBe(JSON.stringify(store, null, 2));
    }
    expectRanges(layout, store);
  });

  it("copies members from the previous file in any order", () => {
    const store = { a: { x: 1 }, b: { y: [2] }, c: { z: "3" } };
    const previous = layoutOf(store);
    const members: LayoutMember[] = [
      { previousIndex: 2 },
      { previousIndex: 0 },
      { previousIndex: 1 },
    ];
    expect(text(assembleStore(members, previous))).toBe(
      JSON.stringify({ c: store.c, a: store.a, b: store.b }, null, 2),
    );
    expect(text(assembleStore([], previous))).toBe("{}");
  });

  it("patches an empty store by appending, into the buffer it is given", () => {
    const previous = layoutOf({});
    const target = Buffer.alloc(256);
    const patched = patchLayout(previous, [], [piece("a", { x: 1 })], (size) =>
      target.subarray(0, size),
    );
    expect(text(patched)).toBe(JSON.stringify({ a: { x: 1 } }, null, 2));
    expect(patched.bytes.buffer).toBe(target.buffer);
  });
});
