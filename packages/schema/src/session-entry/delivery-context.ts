import type { DeliveryContext, SessionEntry } from "./session-entry.ts";

/** Other spellings of built-in channel ids, mapped to the id openclaw stores. */
export const CHANNEL_ID_ALIASES: Readonly<Record<string, string>> = {
  imsg: "imessage",
  gchat: "googlechat",
  "google-chat": "googlechat",
  "internet-relay-chat": "irc",
};

/**
 * A channel id as stored: trimmed, lower-cased, aliases resolved (`imsg` → `imessage`,
 * `gchat`/`google-chat` → `googlechat`, `internet-relay-chat` → `irc`). `undefined` for
 * anything that is not a non-blank string. Aliases declared by channel plugins are not known
 * here and pass through lower-cased.
 */
export function normalizeChannelId(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const normalized = value.trim().toLowerCase();
  if (normalized === "") return undefined;
  return CHANNEL_ID_ALIASES[normalized] ?? normalized;
}

function trimmedString(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

function normalizeThreadId(value: unknown): string | number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : undefined;
  return trimmedString(value);
}

/** The four delivery fields, normalised, without anything else. */
type DeliveryFields = Pick<DeliveryContext, "channel" | "to" | "accountId" | "threadId">;

function normalizeFields(context: unknown): DeliveryFields | undefined {
  if (typeof context !== "object" || context === null) return undefined;
  const raw = context as Record<string, unknown>;
  const channel = normalizeChannelId(raw.channel);
  const to = trimmedString(raw.to);
  const accountId = trimmedString(raw.accountId);
  const threadId = normalizeThreadId(raw.threadId);
  if (channel === undefined && to === undefined && accountId === undefined) {
    if (threadId === undefined) return undefined;
  }
  const normalized: DeliveryFields = {};
  if (channel !== undefined) normalized.channel = channel;
  if (to !== undefined) normalized.to = to;
  if (accountId !== undefined) normalized.accountId = accountId;
  if (threadId !== undefined) normalized.threadId = threadId;
  return normalized;
}

/**
 * A delivery context with its channel normalised ({@link normalizeChannelId}), `to` and
 * `accountId` trimmed (blank → absent), a numeric `threadId` truncated and a blank one dropped.
 * `undefined` when nothing is left. Only the four delivery fields are returned.
 */
export function normalizeDeliveryContext(context: unknown): DeliveryContext | undefined {
  return normalizeFields(context);
}

/**
 * Fills the gaps of `primary` from `fallback`, both normalised first. When the two name
 * different channels, only the channel's own fields are taken from `primary`: a recipient, an
 * account or a thread of one channel is never paired with another channel.
 */
export function mergeDeliveryContext(
  primary: DeliveryContext | undefined,
  fallback: DeliveryContext | undefined,
): DeliveryContext | undefined {
  return mergeFields(primary, fallback);
}

// Takes raw values: entries loaded tolerantly may hold anything in these fields.
function mergeFields(primary: unknown, fallback: unknown): DeliveryFields | undefined {
  const first = normalizeFields(primary);
  const second = normalizeFields(fallback);
  if (first === undefined) return second;
  if (second === undefined) return first;
  const conflict =
    first.channel !== undefined && second.channel !== undefined && first.channel !== second.channel;
  const pick = <Field extends keyof DeliveryFields>(field: Field) =>
    conflict ? first[field] : (first[field] ?? second[field]);
  return normalizeFields({
    channel: first.channel ?? second.channel,
    to: pick("to"),
    accountId: pick("accountId"),
    threadId: pick("threadId"),
  });
}

/**
 * The key that identifies a delivery target, `channel|to|accountId|threadId` (absent parts
 * empty), or `undefined` when the normalised context lacks a channel or a recipient.
 */
export function deliveryContextKey(context: DeliveryContext | undefined): string | undefined {
  const normalized = normalizeFields(context);
  if (normalized?.channel === undefined || normalized.to === undefined) return undefined;
  const thread = normalized.threadId === undefined ? "" : String(normalized.threadId);
  return `${normalized.channel}|${normalized.to}|${normalized.accountId ?? ""}|${thread}`;
}

const DELIVERY_KEYS = ["channel", "to", "accountId", "threadId"] as const;
const MIRROR_KEYS = {
  lastChannel: "channel",
  lastTo: "to",
  lastAccountId: "accountId",
  lastThreadId: "threadId",
} as const;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * Makes an entry's delivery fields agree, as they are before every save: the route from
 * `lastChannel ?? channel`, `lastTo`, `lastAccountId` and `lastThreadId ?? deliveryContext.threadId
 * ?? origin.threadId` wins, gaps are filled from `deliveryContext`, everything is normalised
 * ({@link mergeDeliveryContext}), and `deliveryContext`, `lastChannel`, `lastTo`,
 * `lastAccountId` and `lastThreadId` are rewritten from the result (absent values removed).
 *
 * Returns the same object when the entry already agrees, which is what lets a store skip a
 * write and keep its file byte for byte. Otherwise returns a new entry: existing keys keep their
 * order, keys new to the entry are appended, and unknown fields inside `deliveryContext` are kept.
 */
export function normalizeSessionEntryDelivery(entry: SessionEntry): SessionEntry {
  const raw = entry as Record<string, unknown>;
  const currentContext = record(raw.deliveryContext);
  const origin = record(raw.origin);
  const merged = mergeFields(
    {
      channel: raw.lastChannel ?? raw.channel,
      to: raw.lastTo,
      accountId: raw.lastAccountId,
      threadId: raw.lastThreadId ?? currentContext?.threadId ?? origin?.threadId,
    },
    currentContext,
  );

  const sameContext = DELIVERY_KEYS.every(
    (key) => (currentContext?.[key] ?? undefined) === merged?.[key],
  );
  const sameMirror = Object.entries(MIRROR_KEYS).every(
    ([entryKey, contextKey]) => raw[entryKey] === merged?.[contextKey],
  );
  if (sameContext && sameMirror) return entry;

  const next: Record<string, unknown> = { ...entry };
  const extras = Object.entries(currentContext ?? {}).filter(
    ([key]) => !(DELIVERY_KEYS as readonly string[]).includes(key),
  );
  if (merged === undefined && extras.length === 0) delete next.deliveryContext;
  else next.deliveryContext = { ...merged, ...Object.fromEntries(extras) };
  for (const [entryKey, contextKey] of Object.entries(MIRROR_KEYS)) {
    const value = merged?.[contextKey];
    if (value === undefined) delete next[entryKey];
    else next[entryKey] = value;
  }
  return next as SessionEntry;
}
