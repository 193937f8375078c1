import {
  type GatewaySessionRow,
  normalizeSessionEntryDelivery,
  type SessionEntry,
} from "@clawkeep/schema";
import type { ModelRef } from "../config/agents.ts";
import { getEntryFacts } from "./entry-facts.ts";

/** The row's model: the session's override when one is set, else the agents' default. */
export function resolveSessionModel(entry: SessionEntry, defaultModel: ModelRef): ModelRef {
  const model = entry.modelOverride?.trim();
  if (!model) return defaultModel;
  return { provider: entry.providerOverride?.trim() || defaultModel.provider, model };
}

function tokenCount(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** `entry.totalTokens`, else input + output with a missing side counted as 0. */
export function resolveTotalTokens(entry: SessionEntry): number {
  if (typeof entry.totalTokens === "number" && Number.isFinite(entry.totalTokens)) {
    return entry.totalTokens;
  }
  return tokenCount(entry.inputTokens) + tokenCount(entry.outputTokens);
}

export interface BuildSessionRowExtras {
  derivedTitle?: string | undefined;
  lastMessagePreview?: string | undefined;
}

/**
 * The `sessions.list` row of one session, with every derived field (kind, display name, channel
 * from a group key, total tokens, model, delivery route) and the fields in the order openclaw
 * sends them; absent values are left out. The delivery fields are shown as a save would store
 * them (`normalizeSessionEntryDelivery`), so an entry without `deliveryContext` gets one rebuilt
 * from `lastChannel` (else `channel`), `lastTo`, `lastAccountId` and `lastThreadId`.
 */
export function buildGatewaySessionRow(
  key: string,
  entry: SessionEntry,
  defaultModel: ModelRef,
  extras: BuildSessionRowExtras = {},
): GatewaySessionRow {
  const facts = getEntryFacts(key, entry);
  const model = resolveSessionModel(entry, defaultModel);
  const row: Record<string, unknown> = { key, kind: facts.kind };
  const put = (field: string, value: unknown) => {
    if (value !== undefined && value !== null) row[field] = value;
  };
  put("label", entry.label);
  put("displayName", facts.displayName);
  put("channel", facts.channel);
  put("subject", entry.subject);
  put("groupChannel", entry.groupChannel);
  put("space", entry.space);
  put("chatType", entry.chatType);
  put("origin", entry.origin);
  row.updatedAt =
    typeof entry.updatedAt === "number" && Number.isFinite(entry.updatedAt)
      ? entry.updatedAt
      : null;
  put("sessionId", entry.sessionId);
  put("systemSent", entry.systemSent);
  put("abortedLastRun", entry.abortedLastRun);
  put("thinkingLevel", entry.thinkingLevel);
  put("verboseLevel", entry.verboseLevel);
  put("reasoningLevel", entry.reasoningLevel);
  put("elevatedLevel", entry.elevatedLevel);
  put("sendPolicy", entry.sendPolicy);
  put("inputTokens", entry.inputTokens);
  put("outputTokens", entry.outputTokens);
  row.totalTokens = resolveTotalTokens(entry);
  put("responseUsage", entry.responseUsage);
  row.modelProvider = model.provider;
  row.model = model.model;
  put("contextTokens", entry.contextTokens);
  const delivery = normalizeSessionEntryDelivery(entry);
  put("deliveryContext", delivery.deliveryContext);
  put("lastChannel", delivery.lastChannel);
  put("lastTo", delivery.lastTo);
  put("lastAccountId", delivery.lastAccountId);
  put("derivedTitle", extras.derivedTitle);
  put("lastMessagePreview", extras.lastMessagePreview);
  return row as GatewaySessionRow;
}
