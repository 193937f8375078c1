import type { SessionEntry } from "@clawkeep/schema";

/** Label → the keys whose entry carries it, in store order. */
export type StoreLabelIndex = ReadonlyMap<string, readonly string[]>;

// A frozen snapshot (and each entry in it) never changes, so its label index is built once per
// snapshot object; a store that is not frozen is indexed on every call.
const labelIndexCache = new WeakMap<object, StoreLabelIndex>();

function buildLabelIndex(store: Readonly<Record<string, SessionEntry>>): StoreLabelIndex {
  const index = new Map<string, string[]>();
  for (const key of Object.keys(store)) {
    const entry: unknown = store[key];
    if (typeof entry !== "object" || entry === null) continue;
    const label = (entry as { label?: unknown }).label;
    if (typeof label !== "string") continue;
    const keys = index.get(label);
    if (keys === undefined) index.set(label, [key]);
    else keys.push(key);
  }
  return index;
}

/**
 * The label index of `store`: one pass over its entries, cached by the identity of a frozen
 * snapshot, so that checking a label against a 10k-entry store costs a map lookup once the
 * index of that snapshot exists.
 */
export function indexStoreLabels(store: Readonly<Record<string, SessionEntry>>): StoreLabelIndex {
  if (!Object.isFrozen(store)) return buildLabelIndex(store);
  let index = labelIndexCache.get(store);
  if (index === undefined) {
    index = buildLabelIndex(store);
    labelIndexCache.set(store, index);
  }
  return index;
}
