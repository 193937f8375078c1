import {
  isCronRunSessionKey,
  normalizeAgentId,
  parseAgentSessionKey,
  type SessionEntry,
  type SessionKind,
} from "@clawkeep/schema";
import { buildGroupDisplayName } from "../keys/group-display-name.ts";
import { classifySessionKey, type ParsedGroupKey, parseGroupKey } from "../keys/session-keys.ts";

/** What listing needs to know about one stored session, derived once per entry object. */
export interface EntryFacts {
  key: string;
  kind: SessionKind;
  /** The normalised agent of an `agent:` key, else null. */
  agentId: string | null;
  isCronRun: boolean;
  updatedAt: number;
  group: ParsedGroupKey | null;
  /** `entry.channel`, else the channel of a group key. */
  channel: string | undefined;
  displayName: string | undefined;
  /** displayName, label, subject, sessionId and key, lower-cased, for `search`. */
  searchText: string;
}

/** The entry fields facts are derived from, as they were when the facts were computed. */
interface CachedFacts {
  facts: EntryFacts;
  updatedAt: unknown;
  displayName: unknown;
  label: unknown;
  subject: unknown;
  sessionId: unknown;
  chatType: unknown;
  channel: unknown;
  groupChannel: unknown;
  space: unknown;
  groupId: unknown;
  originLabel: unknown;
}

// Store snapshots are immutable and shared, so an entry object normally never changes once
// stored and its facts can be kept for as long as the object lives. A hit still compares the
// few source fields (by reference, so it costs nanoseconds) and the key, so that an entry a
// caller mutated in place, or stored under two keys, is never searched with stale text.
const factsCache = new WeakMap<object, CachedFacts>();

function isCurrent(cached: CachedFacts, key: string, entry: SessionEntry): boolean {
  return (
    cached.facts.key === key &&
    cached.updatedAt === entry.updatedAt &&
    cached.displayName === entry.displayName &&
    cached.label === entry.label &&
    cached.subject === entry.subject &&
    cached.sessionId === entry.sessionId &&
    cached.chatType === entry.chatType &&
    cached.channel === entry.channel &&
    cached.groupChannel === entry.groupChannel &&
    cached.space === entry.space &&
    cached.groupId === entry.groupId &&
    cached.originLabel === entry.origin?.label
  );
}

/** Separates the fields of a search text, so that a search term never matches across two. */
export const SEARCH_FIELD_SEPARATOR = "\u0000";

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/**
 * The display name of a listed session: the entry's `displayName`; for a group session with a
 * known channel, {@link buildGroupDisplayName}; else the label, else the origin's label.
 */
export function resolveRowDisplayName(
  key: string,
  entry: SessionEntry,
  kind: SessionKind,
  group: ParsedGroupKey | null,
  channel: string | undefined,
): string | undefined {
  const own = nonEmpty(entry.displayName);
  if (own !== undefined) return own;
  if (channel !== undefined && kind === "group") {
    return buildGroupDisplayName({
      provider: channel,
      subject: entry.subject,
      groupChannel: entry.groupChannel,
      space: entry.space,
      id: group?.id ?? entry.groupId,
      key,
    });
  }
  return nonEmpty(entry.label) ?? nonEmpty(entry.origin?.label);
}

interface KeyFacts {
  agentId: string | null;
  group: ParsedGroupKey | null;
  isCronRun: boolean;
}

/**
 * What the key says, for a well-formed key in one pass of `indexOf` (listing derives this for
 * every stored key when a store is first seen); unusual keys (empty segments, padding) go through
 * the general parsers, which give the same answers.
 */
function describeKey(key: string): KeyFacts {
  const wellFormed =
    !key.includes("::") && !key.startsWith(":") && !key.endsWith(":") && key.trim() === key;
  if (!wellFormed) {
    const parsed = parseAgentSessionKey(key);
    return {
      agentId: parsed === null ? null : normalizeAgentId(parsed.agentId),
      group: parseGroupKey(key),
      isCronRun: isCronRunSessionKey(key),
    };
  }
  const lower = key.toLowerCase();
  let agentId: string | null = null;
  let restStart = 0;
  if (lower.startsWith("agent:")) {
    const end = key.indexOf(":", 6);
    if (end !== -1) {
      agentId = normalizeAgentId(key.slice(6, end));
      restStart = end + 1;
    }
  }
  const restLower = lower.slice(restStart);
  let group: ParsedGroupKey | null = null;
  const first = restLower.indexOf(":");
  if (first > 0) {
    const second = restLower.indexOf(":", first + 1);
    if (second !== -1) {
      const kind = restLower.slice(first + 1, second);
      if (kind === "group" || kind === "channel") {
        group = {
          channel: restLower.slice(0, first),
          kind,
          id: key.slice(restStart + second + 1),
        };
      }
    }
  }
  const isCronRun = agentId !== null && restLower.startsWith("cron:") && isCronRunSessionKey(key);
  return { agentId, group, isCronRun };
}

function computeFacts(key: string, entry: SessionEntry): EntryFacts {
  const kind = classifySessionKey(key, entry);
  const { agentId, group, isCronRun } = describeKey(key);
  const channel = nonEmpty(entry.channel) ?? group?.channel;
  const displayName = resolveRowDisplayName(key, entry, kind, group, channel);
  const updatedAt =
    typeof entry.updatedAt === "number" && Number.isFinite(entry.updatedAt) ? entry.updatedAt : 0;
  let searchText = key;
  for (const field of [entry.sessionId, entry.subject, entry.label, displayName]) {
    if (typeof field === "string" && field !== "") {
      searchText = `${field}${SEARCH_FIELD_SEPARATOR}${searchText}`;
    }
  }
  return {
    key,
    kind,
    agentId,
    isCronRun,
    updatedAt,
    group,
    channel,
    displayName,
    searchText: searchText.toLowerCase(),
  };
}

/** The facts of `entry` stored under `key`, computed on first use and cached by object identity. */
export function getEntryFacts(key: string, entry: SessionEntry): EntryFacts {
  const cached = factsCache.get(entry);
  if (cached !== undefined && isCurrent(cached, key, entry)) return cached.facts;
  const facts = computeFacts(key, entry);
  factsCache.set(entry, {
    facts,
    updatedAt: entry.updatedAt,
    displayName: entry.displayName,
    label: entry.label,
    subject: entry.subject,
    sessionId: entry.sessionId,
    chatType: entry.chatType,
    channel: entry.channel,
    groupChannel: entry.groupChannel,
    space: entry.space,
    groupId: entry.groupId,
    originLabel: entry.origin?.label,
  });
  return facts;
}

/**
 * The free-text match of `sessions.list` (trimmed, case-insensitive substring of the display
 * name, label, subject, session id or key), in the shape a store backend takes as its text
 * matcher. An empty text matches everything.
 */
export function matchSessionSearchText(
  row: { key: string; entry: SessionEntry },
  text: string,
): boolean {
  const needle = text.trim().toLowerCase().replaceAll(SEARCH_FIELD_SEPARATOR, "");
  return needle === "" || getEntryFacts(row.key, row.entry).searchText.includes(needle);
}
