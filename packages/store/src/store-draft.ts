import type { SessionEntry, SessionStore } from "@clawkeep/schema";
import { normalizeSessionEntryDelivery, SessionsError } from "@clawkeep/schema";
import { copyJsonValue, deepFreeze, isJsonObject, setOwnProperty } from "./json-utils.ts";
import type { SessionStoreChange, SessionStoreSnapshot } from "./session-store-backend.ts";
import type { LayoutMember, LayoutPlan, ReplacedMember, StoreLayout } from "./store-serialize.ts";
import {
  planAssembly,
  planEquals,
  planOfLayout,
  planPatch,
  serializeMember,
  serializeStore,
} from "./store-serialize.ts";

/** The committed value of a changed key: the frozen entry and its serialised member text. */
export interface EntryChange {
  entry: SessionEntry;
  member: string;
}

/** Marks a key removed in a {@link WorkingStore}. */
export const REMOVED: unique symbol = Symbol("removed");
export type WorkingChange = EntryChange | typeof REMOVED;

/**
 * One committed state of a store: its keys in file order, the entries aligned with them, and
 * (for the file backend) the layout of its bytes. The plain snapshot object is built only when
 * someone asks for it, so a write that nobody reads in between costs no O(store) object work.
 */
export class StoreState {
  readonly keys: readonly string[];
  readonly entries: readonly unknown[];
  /** Byte layout of this state's file, when this process knows it (set by the file backend). */
  layout: StoreLayout | undefined;
  private index: Map<string, number> | undefined;
  private object: SessionStoreSnapshot | undefined;

  constructor(
    keys: readonly string[],
    entries: readonly unknown[],
    options: { index?: Map<string, number> | undefined; snapshot?: SessionStoreSnapshot } = {},
  ) {
    this.keys = keys;
    this.entries = entries;
    this.layout = undefined;
    this.index = options.index;
    this.object = options.snapshot;
  }

  /** A state for a parsed, frozen snapshot whose key order is `keys`. */
  static of(snapshot: SessionStoreSnapshot, keys: readonly string[]): StoreState {
    return new StoreState(
      keys,
      keys.map((key) => snapshot[key]),
      { snapshot },
    );
  }

  /** Key → position. Shared with later states that only append keys, so positions are checked. */
  keyIndex(): Map<string, number> {
    if (this.index === undefined) {
      const index = new Map<string, number>();
      for (let position = 0; position < this.keys.length; position += 1) {
        index.set(this.keys[position] as string, position);
      }
      this.index = index;
    }
    return this.index;
  }

  indexOf(key: string): number {
    const position = this.keyIndex().get(key);
    return position !== undefined && this.keys[position] === key ? position : -1;
  }

  has(key: string): boolean {
    return this.indexOf(key) !== -1;
  }

  get(key: string): unknown {
    const position = this.indexOf(key);
    return position === -1 ? undefined : this.entries[position];
  }

  /** The frozen snapshot object, built on first use. */
  snapshot(): SessionStoreSnapshot {
    if (this.object === undefined) {
      const object: Record<string, unknown> = {};
      for (let position = 0; position < this.keys.length; position += 1) {
        setOwnProperty(object, this.keys[position] as string, this.entries[position]);
      }
      this.object = Object.freeze(object) as SessionStoreSnapshot;
    }
    return this.object;
  }

  /** The index map if it was built, for a successor state to share. */
  builtIndex(): Map<string, number> | undefined {
    return this.index;
  }
}

function isEntryChange(change: WorkingChange | undefined): change is EntryChange {
  return change !== undefined && change !== REMOVED;
}

/**
 * The state of a batch of updates: the base state plus the changes committed by the jobs run
 * so far. Each job works on its own draft and merges into this only when it succeeds, so a
 * failing job rolls back alone.
 */
export class WorkingStore {
  readonly base: StoreState;
  readonly changes = new Map<string, WorkingChange>();
  /** Key order set by a whole-store replacement, when it differs from the base order. */
  order: string[] | undefined;

  constructor(base: StoreState) {
    this.base = base;
  }

  baseHas(key: string): boolean {
    return this.base.has(key);
  }

  has(key: string): boolean {
    const change = this.changes.get(key);
    if (change !== undefined) return change !== REMOVED;
    return this.base.has(key);
  }

  get(key: string): unknown {
    const change = this.changes.get(key);
    if (change !== undefined) return change === REMOVED ? undefined : change.entry;
    return this.base.get(key);
  }

  /** Current keys in file order: base order, then keys created in this batch. */
  keys(): string[] {
    const result: string[] = [];
    if (this.order !== undefined) {
      const listed = new Set<string>();
      for (const key of this.order) {
        if (this.has(key)) {
          result.push(key);
          listed.add(key);
        }
      }
      for (const [key, change] of this.changes) {
        if (change !== REMOVED && !listed.has(key)) result.push(key);
      }
      return result;
    }
    for (const key of this.base.keys) {
      if (this.changes.get(key) !== REMOVED) result.push(key);
    }
    for (const [key, change] of this.changes) {
      if (change !== REMOVED && !this.base.has(key)) result.push(key);
    }
    return result;
  }

  /** Serialised member text of the key's current value (for change detection). */
  memberOf(key: string): string | undefined {
    const change = this.changes.get(key);
    if (change !== undefined) return change === REMOVED ? undefined : change.member;
    const position = this.base.indexOf(key);
    if (position === -1) return undefined;
    return serializeMember(key, this.base.entries[position]).member;
  }

  /**
   * Works out what writing `candidate` under `key` changes, without applying it: `undefined` when
   * the serialised value is what the key holds already (so an untouched or equal entry keeps its
   * identity and its bytes), else the normalised, frozen entry to commit. Throws `INVALID_PARAMS`
   * when the candidate is not an entry.
   */
  prepare(key: string, candidate: unknown, original: unknown): EntryChange | undefined {
    if (candidate === original && original !== undefined) return undefined;
    const current = this.memberOf(key);
    // Compare before validating: an equal copy of an entry that was loaded as it was (even one
    // that would not pass the write check) is no change.
    const raw = isJsonObject(candidate) ? serializeMember(key, candidate) : undefined;
    if (raw !== undefined && raw.member === current) return undefined;
    assertWritableEntry(key, candidate);
    const normalized = normalizeSessionEntryDelivery(candidate);
    const text =
      normalized === candidate && raw !== undefined ? raw : serializeMember(key, normalized);
    if (text.member === current) return undefined;
    return { entry: deepFreeze(JSON.parse(text.valueText) as SessionEntry), member: text.member };
  }

  /** True when the batch changed nothing. */
  isEmpty(): boolean {
    return this.changes.size === 0 && this.order === undefined;
  }

  /**
   * The next state. When keys were only changed or appended, it shares the base's key array (or
   * extends it) and its index, so the cost follows the number of changes, not the store size.
   */
  build(): StoreState {
    const base = this.base;
    const appended: string[] = [];
    let removed = false;
    for (const [key, change] of this.changes) {
      const existed = base.has(key);
      if (change === REMOVED) removed ||= existed;
      else if (!existed) appended.push(key);
    }
    if (this.order === undefined && !removed) {
      const entries = base.entries.slice();
      for (const [key, change] of this.changes) {
        const position = base.indexOf(key);
        if (position !== -1 && isEntryChange(change)) entries[position] = change.entry;
      }
      if (appended.length === 0) {
        return new StoreState(base.keys, entries, { index: base.builtIndex() });
      }
      const index = base.builtIndex();
      const keys = base.keys.concat(appended);
      for (const key of appended) {
        index?.set(key, entries.length);
        entries.push((this.changes.get(key) as EntryChange).entry);
      }
      return new StoreState(keys, entries, { index });
    }
    const keys = this.keys();
    return new StoreState(
      keys,
      keys.map((key) => this.get(key)),
    );
  }

  /**
   * The plan of `next`'s bytes (see {@link LayoutPlan}), from the base's layout: a patch when keys
   * were only changed or appended, else a reassembly, else (no base layout, right after a read)
   * a full serialisation. `undefined` when the bytes would not change.
   */
  layout(next: StoreState): LayoutPlan | undefined {
    const previous = this.base.layout;
    if (previous === undefined) {
      return planOfLayout(serializeStore(next.snapshot(), next.keys.length));
    }
    if (this.order === undefined && !this.removedAny()) {
      const replaced: ReplacedMember[] = [];
      const appended: Buffer[] = [];
      for (const [key, change] of this.changes) {
        if (!isEntryChange(change)) continue;
        const position = this.base.indexOf(key);
        const piece = Buffer.from(change.member);
        if (position === -1) {
          appended.push(piece);
        } else if (
          piece.compare(previous.bytes, previous.starts[position], previous.ends[position]) !== 0
        ) {
          replaced.push({ index: position, piece });
        }
      }
      if (replaced.length === 0 && appended.length === 0) return undefined;
      replaced.sort((left, right) => left.index - right.index);
      return planPatch(previous, replaced, appended);
    }
    const members = next.keys.map((key, position): LayoutMember => {
      const entry = next.entries[position];
      const basePosition = this.base.indexOf(key);
      if (basePosition !== -1 && this.base.entries[basePosition] === entry) {
        return { previousIndex: basePosition };
      }
      const change = this.changes.get(key);
      const member = isEntryChange(change) ? change.member : serializeMember(key, entry).member;
      return { piece: Buffer.from(member) };
    });
    const plan = planAssembly(members, previous);
    return planEquals(plan, previous.bytes) ? undefined : plan;
  }

  private removedAny(): boolean {
    for (const [key, change] of this.changes) {
      if (change === REMOVED && this.base.has(key)) return true;
    }
    return false;
  }

  /** Created, patched and deleted keys relative to the base. */
  describe(snapshot: SessionStoreSnapshot): SessionStoreChange {
    const created: string[] = [];
    const patched: string[] = [];
    const deleted: string[] = [];
    for (const [key, change] of this.changes) {
      const existed = this.base.has(key);
      if (change === REMOVED) {
        if (existed) deleted.push(key);
      } else if (existed) {
        patched.push(key);
      } else {
        created.push(key);
      }
    }
    return { created, patched, deleted, snapshot };
  }
}

function assertWritableEntry(key: string, value: unknown): asserts value is SessionEntry {
  let problem: string | undefined;
  if (!isJsonObject(value)) problem = "not an object";
  else if (typeof value.sessionId !== "string" || value.sessionId === "") {
    problem = "sessionId must be a non-empty string";
  } else if (typeof value.updatedAt !== "number" || !Number.isFinite(value.updatedAt)) {
    problem = "updatedAt must be a finite number";
  }
  if (problem !== undefined) {
    throw new SessionsError("INVALID_PARAMS", `invalid session entry for ${key}: ${problem}`, {
      details: { key },
    });
  }
}

type DraftEdit =
  | { kind: "copy"; original: unknown; value: unknown }
  | { kind: "set"; value: unknown }
  | { kind: "removed" };

/** A mutator's view of a {@link WorkingStore}; see `SessionStoreMutator`. */
export interface Draft {
  readonly store: SessionStore;
  /** Applies the draft's edits to the working store; throws (changing nothing) when invalid. */
  commit(): void;
  /** Makes every further use of the draft throw. */
  revoke(): void;
}

export function createDraft(working: WorkingStore): Draft {
  const edits = new Map<string, DraftEdit>();

  const exists = (key: string): boolean => {
    const edit = edits.get(key);
    if (edit !== undefined) return edit.kind !== "removed";
    return working.has(key);
  };
  const read = (key: string, copy: boolean): unknown => {
    const edit = edits.get(key);
    if (edit !== undefined) return edit.kind === "removed" ? undefined : edit.value;
    const original = working.get(key);
    if (!copy || typeof original !== "object" || original === null) return original;
    const value = copyJsonValue(original);
    edits.set(key, { kind: "copy", original, value });
    return value;
  };
  const ownKeys = (): string[] => {
    const keys = working.keys().filter((key) => edits.get(key)?.kind !== "removed");
    for (const [key, edit] of edits) {
      if (edit.kind === "set" && !working.has(key)) keys.push(key);
    }
    return keys;
  };

  const { proxy, revoke } = Proxy.revocable<SessionStore>({} as SessionStore, {
    get(target, property, receiver) {
      if (typeof property === "string" && exists(property)) return read(property, true);
      return Reflect.get(target, property, receiver);
    },
    set(target, property, value, receiver) {
      if (typeof property !== "string") return Reflect.set(target, property, value, receiver);
      edits.set(property, { kind: "set", value });
      return true;
    },
    defineProperty(target, property, descriptor) {
      if (typeof property !== "string") return Reflect.defineProperty(target, property, descriptor);
      if (!("value" in descriptor)) return false;
      edits.set(property, { kind: "set", value: descriptor.value });
      return true;
    },
    deleteProperty(target, property) {
      if (typeof property !== "string") return Reflect.deleteProperty(target, property);
      edits.set(property, { kind: "removed" });
      return true;
    },
    has(target, property) {
      if (typeof property === "string" && exists(property)) return true;
      return Reflect.has(target, property);
    },
    ownKeys() {
      return ownKeys();
    },
    getOwnPropertyDescriptor(_target, property) {
      if (typeof property !== "string" || !exists(property)) return undefined;
      // Enumerating keys asks for every descriptor; reading the value here must not copy every
      // entry, so it shows the current (frozen) value unless the mutator already holds a copy.
      return { value: read(property, false), writable: true, enumerable: true, configurable: true };
    },
    preventExtensions() {
      return false;
    },
  });

  return {
    store: proxy,
    revoke,
    commit() {
      const prepared = new Map<string, WorkingChange>();
      for (const [key, edit] of edits) {
        // Assigning `undefined` removes the key, as serialising it would.
        if (edit.kind === "removed" || edit.value === undefined) {
          if (working.has(key)) prepared.set(key, REMOVED);
          continue;
        }
        const original = edit.kind === "copy" ? edit.original : working.get(key);
        const change = working.prepare(key, edit.value, original);
        if (change !== undefined) prepared.set(key, change);
      }
      for (const [key, change] of prepared) working.changes.set(key, change);
    },
  };
}
