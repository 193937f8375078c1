import { DEFAULT_AGENT_ID, normalizeAgentId } from "@clawkeep/schema";
import { parseModelRef, type SessionsConfig } from "./sessions-config.ts";

/** The model used when the config names none. */
export const DEFAULT_MODEL_PROVIDER = "anthropic";
export const DEFAULT_MODEL = "claude-opus-4-6";
/** Context window reported in list defaults when the config sets none. */
export const DEFAULT_CONTEXT_TOKENS = 200_000;

/** A resolved `provider/model` pair. */
export interface ModelRef {
  provider: string;
  model: string;
}

/**
 * The default agent: the first `agents.list` entry marked `default: true`, else the first entry,
 * else `main`.
 */
export function resolveDefaultAgentId(cfg: SessionsConfig): string {
  const list = cfg.agents.list;
  const marked = list.find((agent) => agent.default === true);
  return normalizeAgentId((marked ?? list[0])?.id ?? DEFAULT_AGENT_ID);
}

/** The configured agent ids: the default first, then the others in alphabetical order. */
export function listConfiguredAgentIds(cfg: SessionsConfig): string[] {
  const defaultId = resolveDefaultAgentId(cfg);
  const others = cfg.agents.list
    .map((agent) => normalizeAgentId(agent.id))
    .filter((id) => id !== defaultId);
  return [defaultId, ...[...new Set(others)].sort()];
}

function findAlias(cfg: SessionsConfig, alias: string): ModelRef | undefined {
  const wanted = alias.trim().toLowerCase();
  const entry = cfg.agents.defaults.models.find((candidate) => {
    return candidate.alias !== undefined && candidate.alias.trim().toLowerCase() === wanted;
  });
  return entry === undefined ? undefined : { provider: entry.provider, model: entry.model };
}

/**
 * The agents' default model: `agents.defaults.model` (a `provider/model` string or its `primary`),
 * an alias from the allowlist, or a bare model name with the provider `anthropic`; without any,
 * `anthropic/claude-opus-4-6`.
 */
export function resolveDefaultModel(cfg: SessionsConfig): ModelRef {
  const primary = cfg.agents.defaults.model?.primary?.trim();
  if (primary === undefined || primary === "") {
    return { provider: DEFAULT_MODEL_PROVIDER, model: DEFAULT_MODEL };
  }
  const ref = parseModelRef(primary);
  if (ref !== null) return ref;
  return findAlias(cfg, primary) ?? { provider: DEFAULT_MODEL_PROVIDER, model: primary };
}

/** The context window reported in list defaults: `agents.defaults.contextTokens`, else 200000. */
export function resolveDefaultContextTokens(cfg: SessionsConfig): number {
  return cfg.agents.defaults.contextTokens ?? DEFAULT_CONTEXT_TOKENS;
}

export type ResolveModelResult = { ok: true; ref: ModelRef } | { ok: false; message: string };

function sameModel(left: ModelRef, right: ModelRef): boolean {
  return left.provider === right.provider && left.model.toLowerCase() === right.model.toLowerCase();
}

/**
 * Resolves a model the user asked for against the configured default and allowlist
 * (`agents.defaults.models`). `provider/model` is taken as written; a bare name must be an alias
 * of the allowlist. With an allowlist, only its models and the default model are allowed, spelt
 * as the allowlist spells them. Messages are openclaw's: `invalid model: <raw>`,
 * `model not allowed: <provider/model>`.
 */
export function resolveConfiguredModel(cfg: SessionsConfig, raw: string): ResolveModelResult {
  const trimmed = raw.trim();
  if (trimmed === "") return { ok: false, message: "invalid model: empty" };
  const ref = trimmed.includes("/") ? parseModelRef(trimmed) : (findAlias(cfg, trimmed) ?? null);
  if (ref === null) return { ok: false, message: `invalid model: ${trimmed}` };
  const allowlist = cfg.agents.defaults.models;
  if (allowlist.length === 0) return { ok: true, ref };
  const listed = allowlist.find((entry) => sameModel(entry, ref));
  if (listed !== undefined)
    return { ok: true, ref: { provider: listed.provider, model: listed.model } };
  const fallback = resolveDefaultModel(cfg);
  if (sameModel(fallback, ref)) return { ok: true, ref: fallback };
  return { ok: false, message: `model not allowed: ${ref.provider}/${ref.model}` };
}
