import { randomUUID as cryptoRandomUUID } from "node:crypto";
import {
  isSubagentSessionKey,
  type SessionEntry,
  type SessionErrorCode,
  type SessionsPatchParams,
} from "@clawkeep/schema";
import { type ModelRef, resolveConfiguredModel, resolveDefaultModel } from "../config/agents.ts";
import type { SessionsConfig } from "../config/sessions-config.ts";
import { parseSessionLabel } from "../labels.ts";
import {
  formatThinkingLevelHint,
  normalizeChoice,
  normalizeElevatedLevel,
  normalizeReasoningLevel,
  normalizeResponseUsage,
  normalizeThinkingLevel,
  normalizeVerboseLevel,
  supportsXHighThinking,
  XHIGH_MODEL_REFS,
} from "./levels.ts";

/** The fields of a `sessions.patch` request (its params without `key`). */
export type SessionsPatch = Omit<SessionsPatchParams, "key">;

/** A failed request, as a value: `code` for branching, `message` in openclaw's wording. */
export interface SessionsOperationError {
  code: SessionErrorCode;
  message: string;
}

export interface ApplySessionsPatchContext {
  cfg: SessionsConfig;
  /** The canonical key of the session being patched (decides whether `spawnedBy` is allowed). */
  key: string;
  /** Current time in epoch ms. @default Date.now */
  now?: () => number;
  /** Session id for a patch that creates its session. @default crypto.randomUUID */
  randomUUID?: () => string;
  /**
   * True when another session of the same store already carries `label`. Without it, labels are
   * not checked for uniqueness.
   * @default () => false
   */
  isLabelTaken?: (label: string) => boolean;
}

export type ApplySessionsPatchResult =
  | {
      ok: true;
      /** The new entry; the input entry is never modified. */
      entry: SessionEntry;
      /** The model the session runs on: its override when set, else the agents' default. */
      resolved: { modelProvider: string; model: string };
    }
  | { ok: false; error: SessionsOperationError };

const EXEC_HOSTS = ["sandbox", "gateway", "node"] as const;
const EXEC_SECURITY = ["deny", "allowlist", "full"] as const;
const EXEC_ASK = ["off", "on-miss", "always"] as const;
const SEND_POLICIES = ["allow", "deny"] as const;
const GROUP_ACTIVATIONS = ["mention", "always"] as const;

const AUTH_PROFILE_FIELDS = [
  "authProfileOverride",
  "authProfileOverrideSource",
  "authProfileOverrideCompactionCount",
] as const;

/** Unwinds the rule chain on the first rejected field; never leaves this module. */
class PatchRejected extends Error {
  readonly failure: SessionsOperationError;

  constructor(failure: SessionsOperationError) {
    super(failure.message);
    this.failure = failure;
  }
}

function reject(message: string): never {
  throw new PatchRejected({ code: "INVALID_PARAMS", message });
}

type Draft = Record<string, unknown> & SessionEntry;

function effectiveModel(entry: SessionEntry, cfg: SessionsConfig): ModelRef {
  const provider = entry.providerOverride?.trim();
  const model = entry.modelOverride?.trim();
  if (model) return { provider: provider || resolveDefaultModel(cfg).provider, model };
  return resolveDefaultModel(cfg);
}

function has<K extends keyof SessionsPatch>(patch: SessionsPatch, field: K): boolean {
  return Object.hasOwn(patch, field) && patch[field] !== undefined;
}

/** Applies `null` (remove), a normalised value, or rejects with `invalidMessage`. */
function applyNormalized(
  draft: Draft,
  field: keyof SessionsPatch & keyof SessionEntry,
  raw: string | null | undefined,
  normalize: (value: string) => string | undefined,
  invalidMessage: string,
): void {
  if (raw === undefined) return;
  if (raw === null) {
    delete draft[field];
    return;
  }
  const value = normalize(raw);
  if (value === undefined) reject(invalidMessage);
  (draft as Record<string, unknown>)[field] = value;
}

function applySpawnedBy(draft: Draft, raw: string | null, key: string): void {
  const current = draft.spawnedBy;
  if (raw === null) {
    if (current !== undefined && current !== "") reject("spawnedBy cannot be cleared once set");
    return;
  }
  const value = raw.trim();
  if (value === "") reject("invalid spawnedBy: empty");
  if (!isSubagentSessionKey(key)) reject("spawnedBy is only supported for subagent:* sessions");
  if (current !== undefined && current !== "" && current !== value) {
    reject("spawnedBy cannot be changed once set");
  }
  draft.spawnedBy = value;
}

function applyLabel(
  draft: Draft,
  raw: string | null,
  isLabelTaken: (label: string) => boolean,
): void {
  if (raw === null) {
    delete draft.label;
    return;
  }
  const parsed = parseSessionLabel(raw);
  if (!parsed.ok) reject(parsed.message);
  if (isLabelTaken(parsed.label)) reject(`label already in use: ${parsed.label}`);
  draft.label = parsed.label;
}

function clearModelOverrides(draft: Draft): void {
  delete draft.providerOverride;
  delete draft.modelOverride;
}

function applyModel(draft: Draft, raw: string | null, cfg: SessionsConfig): void {
  if (raw === null) {
    clearModelOverrides(draft);
    for (const field of AUTH_PROFILE_FIELDS) delete draft[field];
    return;
  }
  const resolved = resolveConfiguredModel(cfg, raw);
  if (!resolved.ok) reject(resolved.message);
  const fallback = resolveDefaultModel(cfg);
  if (resolved.ref.provider === fallback.provider && resolved.ref.model === fallback.model) {
    clearModelOverrides(draft);
  } else {
    draft.providerOverride = resolved.ref.provider;
    draft.modelOverride = resolved.ref.model;
  }
  // An auth profile belongs to a provider; a new model must not run on the old profile.
  for (const field of AUTH_PROFILE_FIELDS) delete draft[field];
}

function applyThinkingLevel(draft: Draft, raw: string | null, cfg: SessionsConfig): void {
  if (raw === null) {
    delete draft.thinkingLevel;
    return;
  }
  const value = normalizeThinkingLevel(raw);
  if (value === undefined) {
    const model = effectiveModel(draft, cfg);
    reject(`invalid thinkingLevel (use ${formatThinkingLevelHint(model.provider, model.model)})`);
  }
  draft.thinkingLevel = value;
}

function guardXHigh(draft: Draft, patch: SessionsPatch, cfg: SessionsConfig): void {
  if (draft.thinkingLevel !== "xhigh") return;
  const model = effectiveModel(draft, cfg);
  if (supportsXHighThinking(model.provider, model.model)) return;
  if (has(patch, "thinkingLevel")) {
    reject(`thinkingLevel "xhigh" is only supported for ${XHIGH_MODEL_REFS.join(", ")}`);
  }
  // The level was set earlier for a model that had it; the new model gets the nearest level.
  draft.thinkingLevel = "high";
}

function applyExecNode(draft: Draft, raw: string | null): void {
  if (raw === null) {
    delete draft.execNode;
    return;
  }
  const value = raw.trim();
  if (value === "") reject("invalid execNode: empty");
  draft.execNode = value;
}

function applyResponseUsage(draft: Draft, raw: string | null): void {
  const value = raw === null ? "off" : normalizeResponseUsage(raw);
  if (value === undefined) reject('invalid responseUsage (use "off"|"tokens"|"full"|"on")');
  if (value === "off") delete draft.responseUsage;
  else draft.responseUsage = value as "tokens" | "full";
}

function applyReasoningLevel(draft: Draft, raw: string | null): void {
  const value = raw === null ? "off" : normalizeReasoningLevel(raw);
  if (value === undefined) reject('invalid reasoningLevel (use "on"|"off"|"stream")');
  if (value === "off") delete draft.reasoningLevel;
  else draft.reasoningLevel = value;
}

/**
 * Applies a validated `sessions.patch` to one entry, with openclaw's rules, spellings, messages and
 * order (spawnedBy, label, thinkingLevel, verboseLevel, reasoningLevel, responseUsage,
 * elevatedLevel, exec*, model, the xhigh guard, sendPolicy, groupActivation). The first rejected
 * field rejects the whole patch and nothing is applied. A missing entry is created with a fresh
 * session id. `updatedAt` becomes at least now. Pure: `entry` is not modified.
 */
export function applySessionsPatch(
  entry: SessionEntry | undefined,
  patch: SessionsPatch,
  context: ApplySessionsPatchContext,
): ApplySessionsPatchResult {
  const { cfg } = context;
  const now = (context.now ?? Date.now)();
  const newId = context.randomUUID ?? cryptoRandomUUID;
  const isLabelTaken = context.isLabelTaken ?? (() => false);
  const draft: Draft =
    entry === undefined
      ? { sessionId: newId(), updatedAt: now }
      : { ...entry, updatedAt: Math.max(Number(entry.updatedAt) || 0, now) };

  try {
    if (patch.spawnedBy !== undefined) applySpawnedBy(draft, patch.spawnedBy, context.key);
    if (patch.label !== undefined) applyLabel(draft, patch.label, isLabelTaken);
    if (patch.thinkingLevel !== undefined) applyThinkingLevel(draft, patch.thinkingLevel, cfg);
    applyNormalized(
      draft,
      "verboseLevel",
      patch.verboseLevel,
      normalizeVerboseLevel,
      'invalid verboseLevel (use "on"|"off")',
    );
    if (patch.reasoningLevel !== undefined) applyReasoningLevel(draft, patch.reasoningLevel);
    if (patch.responseUsage !== undefined) applyResponseUsage(draft, patch.responseUsage);
    applyNormalized(
      draft,
      "elevatedLevel",
      patch.elevatedLevel,
      normalizeElevatedLevel,
      'invalid elevatedLevel (use "on"|"off"|"ask"|"full")',
    );
    applyNormalized(
      draft,
      "execHost",
      patch.execHost,
      (value) => normalizeChoice(value, EXEC_HOSTS),
      'invalid execHost (use "sandbox"|"gateway"|"node")',
    );
    applyNormalized(
      draft,
      "execSecurity",
      patch.execSecurity,
      (value) => normalizeChoice(value, EXEC_SECURITY),
      'invalid execSecurity (use "deny"|"allowlist"|"full")',
    );
    applyNormalized(
      draft,
      "execAsk",
      patch.execAsk,
      (value) => normalizeChoice(value, EXEC_ASK),
      'invalid execAsk (use "off"|"on-miss"|"always")',
    );
    if (patch.execNode !== undefined) applyExecNode(draft, patch.execNode);
    if (patch.model !== undefined) applyModel(draft, patch.model, cfg);
    guardXHigh(draft, patch, cfg);
    applyNormalized(
      draft,
      "sendPolicy",
      patch.sendPolicy,
      (value) => normalizeChoice(value, SEND_POLICIES),
      'invalid sendPolicy (use "allow"|"deny")',
    );
    applyNormalized(
      draft,
      "groupActivation",
      patch.groupActivation,
      (value) => normalizeChoice(value, GROUP_ACTIVATIONS),
      'invalid groupActivation (use "mention"|"always")',
    );
  } catch (error) {
    if (error instanceof PatchRejected) return { ok: false, error: error.failure };
    throw error;
  }
  const model = effectiveModel(draft, cfg);
  return {
    ok: true,
    entry: draft,
    resolved: { modelProvider: model.provider, model: model.model },
  };
}
