import { parseAgentSessionKey } from "@clawkeep/schema";

/**
 * Key case rule: the fixed words of a key shape (`agent`, the agent id, `main` and the main key,
 * `subagent`, `acp`, `cron`, `run`, channel names, `group`, `channel`, `direct`, `dm`, `thread`,
 * `topic`) are written lower case; opaque parts (peer ids, group ids, session ids, job and run ids,
 * names after `subagent:`) keep their case, because some channels' ids are case-sensitive.
 */
export interface KeyCaseOptions {
  /** The configured main key, recognised (any case) as a fixed word. @default "main" */
  mainKey?: string;
}

const KIND_WORDS = new Set(["group", "channel", "direct", "dm"]);
const PEER_WORDS = new Set(["direct", "dm"]);
const PREFIX_WORDS = new Set(["subagent", "acp"]);
const THREAD_WORDS = new Set(["thread", "topic"]);

function normalizeRestCase(rest: string, mainKey: string): string {
  const parts = rest.split(":");
  const lower = parts.map((part) => part.toLowerCase());
  const first = lower[0] ?? "";
  if (parts.length === 1) return first === "main" || first === mainKey ? first : rest;
  if (PREFIX_WORDS.has(first)) {
    parts[0] = first;
    return parts.join(":");
  }
  if (first === "cron") {
    parts[0] = first;
    if (parts.length >= 4 && lower[2] === "run") parts[2] = "run";
    return parts.join(":");
  }
  let idStart: number;
  if (PEER_WORDS.has(first)) {
    parts[0] = first;
    idStart = 1;
  } else if (parts.length >= 3 && KIND_WORDS.has(lower[1] ?? "")) {
    parts[0] = first;
    parts[1] = lower[1] ?? "";
    idStart = 2;
  } else if (parts.length >= 4 && PEER_WORDS.has(lower[2] ?? "")) {
    // <channel>:<accountId>:direct:<peer>; the account id is opaque.
    parts[0] = first;
    parts[2] = lower[2] ?? "";
    idStart = 3;
  } else {
    return rest;
  }
  // A thread or topic marker can only follow the peer or group id and needs an id after it.
  for (let index = idStart + 1; index < parts.length - 1; index += 1) {
    const word = lower[index] ?? "";
    if (THREAD_WORDS.has(word)) parts[index] = word;
  }
  return parts.join(":");
}

/**
 * Writes the fixed words of a key in lower case and keeps the opaque parts as they are, so that
 * `Agent:Ops:Discord:Group:DevTeam` becomes `agent:ops:discord:group:DevTeam` and
 * `agent:ops:MySession` stays as it is. The key is trimmed; a malformed `agent:` key is returned
 * trimmed only.
 */
export function normalizeSessionKeyCase(key: string, options: KeyCaseOptions = {}): string {
  const mainKey = (options.mainKey ?? "main").trim().toLowerCase() || "main";
  const trimmed = key.trim();
  const lower = trimmed.toLowerCase();
  if (lower === "global" || lower === "unknown") return lower;
  if (lower.startsWith("agent:")) {
    const parsed = parseAgentSessionKey(trimmed);
    if (parsed === null) return trimmed;
    return `agent:${parsed.agentId.toLowerCase()}:${normalizeRestCase(parsed.rest, mainKey)}`;
  }
  return normalizeRestCase(trimmed, mainKey);
}

/** What {@link findStoreEntry} looks for: one key, or a target's keys in order of preference. */
export type StoreEntryTarget = string | { storeKeys: readonly string[]; mainKey?: string };

export interface FoundStoreEntry<E> {
  /** The key under which the entry is stored (possibly a twin spelt differently). */
  key: string;
  entry: E;
}

type WithUpdatedAt = { updatedAt?: number | null | undefined };

function updatedAtOf(entry: WithUpdatedAt | undefined): number {
  const value = entry?.updatedAt;
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function findTwins<E extends WithUpdatedAt>(
  store: Readonly<Record<string, E>>,
  key: string,
  mainKey: string | undefined,
): FoundStoreEntry<E> | undefined {
  const options = mainKey === undefined ? {} : { mainKey };
  const wanted = normalizeSessionKeyCase(key, options);
  const wantedLower = wanted.toLowerCase();
  let best: FoundStoreEntry<E> | undefined;
  for (const candidate of Object.keys(store)) {
    // Twins differ only in letter case, so the cheap length test rejects almost every key.
    if (candidate.length !== wanted.length && candidate.trim().length !== wanted.length) continue;
    if (candidate.trim().toLowerCase() !== wantedLower) continue;
    if (normalizeSessionKeyCase(candidate, options) !== wanted) continue;
    const entry = store[candidate];
    if (entry === undefined) continue;
    if (
      best === undefined ||
      updatedAtOf(entry) > updatedAtOf(best.entry) ||
      // Equal times: prefer the key already written in the canonical spelling, then a stable order.
      (updatedAtOf(entry) === updatedAtOf(best.entry) &&
        (candidate === wanted || (best.key !== wanted && candidate < best.key)))
    ) {
      best = { key: candidate, entry };
    }
  }
  return best;
}

/**
 * Finds the entry for a key whatever the case of its fixed words. For a target with several
 * `storeKeys` (canonical key first, then the alias the caller typed), the first key that has any
 * entry wins. When the store holds twins that differ only in the case of fixed words, the newest
 * (`updatedAt`) is returned. Returns undefined when nothing matches. Cost: one pass over the keys
 * per store key tried.
 */
export function findStoreEntry<E extends WithUpdatedAt>(
  store: Readonly<Record<string, E>>,
  target: StoreEntryTarget,
  options: KeyCaseOptions = {},
): FoundStoreEntry<E> | undefined {
  const keys = typeof target === "string" ? [target] : target.storeKeys;
  const mainKey = options.mainKey ?? (typeof target === "string" ? undefined : target.mainKey);
  for (const key of keys) {
    if (key.trim() === "") continue;
    const found = findTwins(store, key, mainKey);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A set of store keys that name one session and differ only in the case of fixed words. */
export interface KeyTwins {
  /** The spelling lookups use. */
  canonicalKey: string;
  /** Every stored spelling, newest entry first. */
  keys: string[];
  /** The key whose entry lookups return (the newest). */
  winner: string;
}

/** Lists every group of twin keys in a store, for `clawkeep doctor`. */
export function listKeyTwins<E extends WithUpdatedAt>(
  store: Readonly<Record<string, E>>,
  options: KeyCaseOptions = {},
): KeyTwins[] {
  const groups = new Map<string, string[]>();
  for (const key of Object.keys(store)) {
    const canonical = normalizeSessionKeyCase(key, options);
    const group = groups.get(canonical);
    if (group === undefined) groups.set(canonical, [key]);
    else group.push(key);
  }
  const twins: KeyTwins[] = [];
  for (const [canonicalKey, keys] of groups) {
    if (keys.length < 2) continue;
    const winner = findTwins(store, canonicalKey, options.mainKey)?.key ?? keys[0] ?? canonicalKey;
    const ordered = [winner, ...keys.filter((key) => key !== winner)].sort((left, right) => {
      if (left === winner) return -1;
      if (right === winner) return 1;
      return updatedAtOf(store[right]) - updatedAtOf(store[left]) || (left < right ? -1 : 1);
    });
    twins.push({ canonicalKey, keys: ordered, winner });
  }
  return twins.sort((left, right) => (left.canonicalKey < right.canonicalKey ? -1 : 1));
}
