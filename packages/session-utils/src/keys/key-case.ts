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

/** What {@link findStoreEntry} looks for: one key, or a target's spellings of one session. */
export type StoreEntryTarget = string | { storeKeys: readonly string[]; mainKey?: string };

export interface FindStoreEntryOptions extends KeyCaseOptions {
  /**
   * The agent whose store is searched. openclaw stores can hold an agent's sessions under bare
   * keys (`discord:group:dev` for `agent:<id>:discord:group:dev`), so a key of this agent also
   * finds its bare spelling. A target from `resolveGatewaySessionStoreTarget` lists that spelling
   * in `storeKeys` already.
   * @default undefined (bare spellings are found only when listed)
   */
  storeAgentId?: string;
}

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

/**
 * The bare spelling of `agent:<agentId>:<rest>` in that agent's own store: `<rest>`, unless a
 * bare `<rest>` would mean something else there (`global`, `unknown`, another agent key).
 * Undefined for a key of another agent or a key that is not an agent key.
 */
export function bareStoreKeyOf(key: string, agentId: string): string | undefined {
  const parsed = parseAgentSessionKey(key.trim());
  if (parsed === null || parsed.agentId.toLowerCase() !== agentId.trim().toLowerCase()) {
    return undefined;
  }
  const lower = parsed.rest.toLowerCase();
  if (lower === "global" || lower === "unknown" || lower.startsWith("agent:")) return undefined;
  return parsed.rest;
}

/**
 * The newest entry stored under any of `wanted` (normalised spellings, in order of preference)
 * whatever the case of its fixed words. Equal times prefer a key written exactly as a wanted
 * spelling, the earlier one first, then a stable order. One pass over the keys.
 */
function findNewestSpelling<E extends WithUpdatedAt>(
  store: Readonly<Record<string, E>>,
  wanted: readonly string[],
  options: KeyCaseOptions,
): FoundStoreEntry<E> | undefined {
  const lengths = new Set(wanted.map((key) => key.length));
  const lowers = new Set(wanted.map((key) => key.toLowerCase()));
  let best: FoundStoreEntry<E> | undefined;
  let bestTime = 0;
  let bestRank = 0;
  for (const candidate of Object.keys(store)) {
    // Spellings differ only in letter case, so the cheap length test rejects almost every key.
    if (!lengths.has(candidate.length) && !lengths.has(candidate.trim().length)) continue;
    if (!lowers.has(candidate.trim().toLowerCase())) continue;
    const index = wanted.indexOf(normalizeSessionKeyCase(candidate, options));
    if (index < 0) continue;
    const entry = store[candidate];
    // A value that is not an object (`null`, a number) is no session: lookups see it as absent.
    if (typeof entry !== "object" || entry === null) continue;
    const time = updatedAtOf(entry);
    const rank = candidate === wanted[index] ? index : wanted.length + index;
    if (
      best === undefined ||
      time > bestTime ||
      (time === bestTime && (rank < bestRank || (rank === bestRank && candidate < best.key)))
    ) {
      best = { key: candidate, entry };
      bestTime = time;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * Finds the entry of one session whatever the case of its fixed words. A target's `storeKeys`
 * (canonical key first, then the other spellings the session may be stored under) all name the
 * same session: when several are stored, the newest (`updatedAt`) wins, as in the combined view,
 * and equal times prefer the canonical spelling. Returns undefined when nothing matches. Cost:
 * one pass over the store's keys.
 */
export function findStoreEntry<E extends WithUpdatedAt>(
  store: Readonly<Record<string, E>>,
  target: StoreEntryTarget,
  options: FindStoreEntryOptions = {},
): FoundStoreEntry<E> | undefined {
  const keys = typeof target === "string" ? [target] : target.storeKeys;
  const mainKey = options.mainKey ?? (typeof target === "string" ? undefined : target.mainKey);
  const caseOptions = mainKey === undefined ? {} : { mainKey };
  const wanted: string[] = [];
  const want = (key: string | undefined) => {
    if (key === undefined || key.trim() === "") return;
    const normalized = normalizeSessionKeyCase(key, caseOptions);
    if (!wanted.includes(normalized)) wanted.push(normalized);
  };
  for (const key of keys) {
    want(key);
    if (options.storeAgentId !== undefined) want(bareStoreKeyOf(key, options.storeAgentId));
  }
  return wanted.length === 0 ? undefined : findNewestSpelling(store, wanted, caseOptions);
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

export interface ListKeyTwinsOptions extends KeyCaseOptions {
  /**
   * The agent whose store this is: its bare keys (`discord:group:dev`) are grouped with
   * `agent:<id>:discord:group:dev`.
   * @default undefined (bare keys are grouped with bare keys only)
   */
  storeAgentId?: string;
}

/** Lists every group of twin keys in a store, for `clawkeep doctor`. */
export function listKeyTwins<E extends WithUpdatedAt>(
  store: Readonly<Record<string, E>>,
  options: ListKeyTwinsOptions = {},
): KeyTwins[] {
  const caseOptions = options.mainKey === undefined ? {} : { mainKey: options.mainKey };
  const agentId = options.storeAgentId?.trim().toLowerCase();
  const groups = new Map<string, string[]>();
  for (const key of Object.keys(store)) {
    let canonical = normalizeSessionKeyCase(key, caseOptions);
    if (agentId !== undefined && agentId !== "") {
      const prefixed = `agent:${agentId}:${canonical}`;
      if (bareStoreKeyOf(prefixed, agentId) === canonical) canonical = prefixed;
    }
    const group = groups.get(canonical);
    if (group === undefined) groups.set(canonical, [key]);
    else group.push(key);
  }
  const twins: KeyTwins[] = [];
  for (const [canonicalKey, keys] of groups) {
    if (keys.length < 2) continue;
    const findOptions: FindStoreEntryOptions = { ...caseOptions };
    if (agentId !== undefined && agentId !== "") findOptions.storeAgentId = agentId;
    const winner = findStoreEntry(store, canonicalKey, findOptions)?.key ?? keys[0] ?? canonicalKey;
    const ordered = [winner, ...keys.filter((key) => key !== winner)].sort((left, right) => {
      if (left === winner) return -1;
      if (right === winner) return 1;
      return updatedAtOf(store[right]) - updatedAtOf(store[left]) || (left < right ? -1 : 1);
    });
    twins.push({ canonicalKey, keys: ordered, winner });
  }
  return twins.sort((left, right) => (left.canonicalKey < right.canonicalKey ? -1 : 1));
}
