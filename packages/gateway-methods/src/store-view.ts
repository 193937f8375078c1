import type { SessionEntry, SessionStore } from "@clawkeep/schema";
import {
  canonicalizeMainSessionAlias,
  normalizeSessionKeyCase,
  type SessionStoreTarget,
  type SessionsConfig,
  toCombinedStoreKey,
} from "@clawkeep/session-utils";
import type { SessionStoreBackend, SessionTextMatcher } from "@clawkeep/store";

/** A store as read inside an update, without the copies that reading a draft makes. */
export type StoreView = Readonly<Record<string, SessionEntry>>;

/**
 * A read-only view of a store draft. Reading an entry through the draft itself hands out a
 * private copy (so that the mutator may change it), and the draft then compares every copied
 * entry when it commits: a scan of every entry (label uniqueness, twin lookup) would copy the whole
 * store. The view reads the draft's property descriptors instead, which show the current frozen
 * entries, including what earlier updates of the same batch wrote.
 */
export function viewOfDraft(draft: SessionStore): StoreView {
  let keys: (string | symbol)[] | undefined;
  const currentValue = (property: string | symbol): unknown =>
    Reflect.getOwnPropertyDescriptor(draft, property)?.value;
  return new Proxy({} as StoreView, {
    get(_target, property) {
      return typeof property === "string" ? currentValue(property) : undefined;
    },
    has(_target, property) {
      return Reflect.has(draft, property);
    },
    ownKeys() {
      // The view is only read while the mutator has not written yet, so the key list is stable.
      keys ??= Reflect.ownKeys(draft);
      return keys;
    },
    getOwnPropertyDescriptor(_target, property) {
      const descriptor = Reflect.getOwnPropertyDescriptor(draft, property);
      if (descriptor === undefined) return undefined;
      return { value: descriptor.value, writable: false, enumerable: true, configurable: true };
    },
  });
}

/** The keys of a draft, in file order, from one trap call (no entry is read or copied). */
export function keysOfDraft(draft: SessionStore): string[] {
  return Reflect.ownKeys(draft).filter((key): key is string => typeof key === "string");
}

/** The current, frozen entry of a draft under `key`, without the copy a plain read makes. */
export function entryOfDraft(draft: SessionStore, key: string): SessionEntry | undefined {
  return Reflect.getOwnPropertyDescriptor(draft, key)?.value as SessionEntry | undefined;
}

/**
 * Creates the text match of the store instances used for key lookups: `text` is a JSON array of
 * keys, normalised and lower-cased (see {@link findKeySpellings}), and a row matches when its key
 * equals one of them but for letter case and surrounding space (a twin spelling). Through the
 * store seam's `list`, this runs over the store's own key list without building an object or a
 * trap per key; the query is parsed once per listing, and a length test rejects almost every key.
 */
export function createKeySpellingMatcher(): SessionTextMatcher {
  let parsed: { text: string; folds: Set<string>; lengths: Set<number> } | undefined;
  return (row, text) => {
    if (parsed?.text !== text) {
      const folds = new Set(JSON.parse(text) as string[]);
      parsed = { text, folds, lengths: new Set([...folds].map((fold) => fold.length)) };
    }
    const key = row.key;
    if (!parsed.lengths.has(key.length) && !parsed.lengths.has(key.trim().length)) return false;
    return parsed.folds.has(key.trim().toLowerCase());
  };
}

/**
 * The stored keys that a lookup of `target` can return: those equal to one of its store keys but
 * for the case of fixed words, from the store's current state, in one pass over its keys.
 * `lookup` is an instance of the target's store created with {@link createKeySpellingMatcher}.
 */
export async function findKeySpellings(
  lookup: SessionStoreBackend,
  target: SessionStoreTarget,
): Promise<string[]> {
  const folds = new Set<string>();
  for (const key of target.storeKeys) {
    const fold = normalizeSessionKeyCase(key, { mainKey: target.mainKey }).toLowerCase();
    if (fold !== "") folds.add(fold);
  }
  if (folds.size === 0) return [];
  const { rows } = await lookup.list({ text: JSON.stringify([...folds]), sort: "key-asc" });
  return rows.map((row) => row.key);
}

/**
 * The spellings `target` lists (as given and normalised) that are stored in the draft, each read
 * directly: no other key is looked at. A twin spelt in another case is not among them; see
 * {@link findKeySpellings}.
 */
export function findListedSpellings(draft: SessionStore, target: SessionStoreTarget): string[] {
  const found: string[] = [];
  for (const key of target.storeKeys) {
    const normalized = normalizeSessionKeyCase(key, { mainKey: target.mainKey });
    for (const spelling of key === normalized ? [key] : [key, normalized]) {
      if (!found.includes(spelling) && entryOfDraft(draft, spelling) !== undefined) {
        found.push(spelling);
      }
    }
  }
  return found;
}

/**
 * A view of the entries under `keys` as they are now in the draft, so that an earlier update of
 * the same batch is never overwritten with an older entry. A spelling created earlier in the same
 * batch under another case is not among `keys`; the next lookup finds it.
 */
export function viewOfKeys(draft: SessionStore, keys: Iterable<string>): StoreView {
  const view: Record<string, SessionEntry> = {};
  for (const key of keys) {
    const entry = entryOfDraft(draft, key);
    if (entry !== undefined) view[key] = entry;
  }
  return view;
}

const MAIN_WORDS = new Set(["main"]);

/**
 * Every key (of an agent's store's `keys`) that names the session of `target`: its canonical spelling, the
 * alias the caller typed, a bare key stored without the `agent:<id>:` prefix, a main-session
 * alias, and twins that differ in the case of fixed words. Cost: one lower-case comparison per
 * key, and a key parse only for the few that end like the target.
 */
export function listSessionSpellings(
  keys: readonly string[],
  cfg: SessionsConfig,
  target: SessionStoreTarget,
): string[] {
  const canonical = target.canonicalKey;
  const canonicalLower = canonical.toLowerCase();
  const mainKey = target.mainKey;
  const mainAliases = new Set([
    ...MAIN_WORDS,
    mainKey,
    `agent:${target.agentId}:main`,
    `agent:${target.agentId}:${mainKey}`,
  ]);
  const found: string[] = [];
  for (const key of keys) {
    const lower = key.trim().toLowerCase();
    // Re-keying only ever prefixes `agent:<id>:` and changes case, so a spelling of the session
    // ends like its canonical key, unless it is a main-session alias.
    if (!canonicalLower.endsWith(lower) && !mainAliases.has(lower)) continue;
    const combined = toCombinedStoreKey(key, target.agentId, mainKey);
    const resolved = canonicalizeMainSessionAlias({
      cfg,
      agentId: target.agentId,
      sessionKey: combined,
    });
    if (resolved === canonical) found.push(key);
  }
  return found;
}
