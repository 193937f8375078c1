// Spellings accepted for each patchable level, mapped to the value stored. The tables are the
// ones openclaw's gateway accepts, so that a client written for openclaw gets the same results.

const THINKING_LEVELS: Record<string, string> = {
  off: "off",
  on: "low",
  enable: "low",
  enabled: "low",
  low: "low",
  thinkhard: "low",
  "think-hard": "low",
  think_hard: "low",
  min: "minimal",
  minimal: "minimal",
  think: "minimal",
  mid: "medium",
  med: "medium",
  medium: "medium",
  thinkharder: "medium",
  "think-harder": "medium",
  harder: "medium",
  high: "high",
  ultra: "high",
  ultrathink: "high",
  thinkhardest: "high",
  highest: "high",
  max: "high",
  xhigh: "xhigh",
  "x-high": "xhigh",
  x_high: "xhigh",
  extrahigh: "xhigh",
  "extra-high": "xhigh",
  extra_high: "xhigh",
};

const VERBOSE_LEVELS: Record<string, string> = {
  off: "off",
  false: "off",
  no: "off",
  "0": "off",
  full: "full",
  all: "full",
  everything: "full",
  on: "on",
  minimal: "on",
  true: "on",
  yes: "on",
  "1": "on",
};

const REASONING_LEVELS: Record<string, string> = {
  off: "off",
  false: "off",
  no: "off",
  "0": "off",
  hide: "off",
  hidden: "off",
  disable: "off",
  disabled: "off",
  on: "on",
  true: "on",
  yes: "on",
  "1": "on",
  show: "on",
  visible: "on",
  enable: "on",
  enabled: "on",
  stream: "stream",
  streaming: "stream",
  draft: "stream",
  live: "stream",
};

const ELEVATED_LEVELS: Record<string, string> = {
  off: "off",
  false: "off",
  no: "off",
  "0": "off",
  on: "on",
  true: "on",
  yes: "on",
  "1": "on",
  ask: "ask",
  prompt: "ask",
  approval: "ask",
  approve: "ask",
  full: "full",
  auto: "full",
  "auto-approve": "full",
  autoapprove: "full",
};

const RESPONSE_USAGE: Record<string, string> = {
  off: "off",
  on: "tokens",
  tokens: "tokens",
  full: "full",
};

function lookup(table: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `off|minimal|low|medium|high|xhigh` from any accepted spelling (trimmed, any case). */
export function normalizeThinkingLevel(raw: string): string | undefined {
  return lookup(THINKING_LEVELS, raw.trim().toLowerCase());
}

/** `off|on|full`; lower-cased but not trimmed, as openclaw does (`" on "` is rejected). */
export function normalizeVerboseLevel(raw: string): string | undefined {
  return lookup(VERBOSE_LEVELS, raw.toLowerCase());
}

/** `off|on|stream` (trimmed, any case). */
export function normalizeReasoningLevel(raw: string): string | undefined {
  return lookup(REASONING_LEVELS, raw.trim().toLowerCase());
}

/** `off|on|ask|full` (trimmed, any case). */
export function normalizeElevatedLevel(raw: string): string | undefined {
  return lookup(ELEVATED_LEVELS, raw.trim().toLowerCase());
}

/** `off|tokens|full`; `on` means `tokens`. */
export function normalizeResponseUsage(raw: string): string | undefined {
  return lookup(RESPONSE_USAGE, raw.trim().toLowerCase());
}

/** One of `allowed` after trimming and lower-casing, else undefined. */
export function normalizeChoice<T extends string>(
  raw: string,
  allowed: readonly T[],
): T | undefined {
  const value = raw.trim().toLowerCase();
  return allowed.find((candidate) => candidate === value);
}

/**
 * Models that accept `thinkingLevel: "xhigh"` (`provider/model`). Any other model is limited to
 * `high`.
 */
export const XHIGH_MODEL_REFS = [
  "openai/gpt-5.2",
  "openai-codex/gpt-5.3-codex",
  "openai-codex/gpt-5.2-codex",
  "openai-codex/gpt-5.1-codex",
  "github-copilot/gpt-5.2-codex",
  "github-copilot/gpt-5.2",
] as const;

/** True when `provider/model` accepts the `xhigh` thinking level. */
export function supportsXHighThinking(provider: string, model: string): boolean {
  const ref = `${provider.trim().toLowerCase()}/${model.trim().toLowerCase()}`;
  return (XHIGH_MODEL_REFS as readonly string[]).includes(ref);
}

/** Providers whose thinking is a switch rather than a scale. */
const BINARY_THINKING_PROVIDERS = new Set(["zai", "z.ai", "z-ai"]);

/** The hint in `invalid thinkingLevel (use …)`, which depends on the model in use. */
export function formatThinkingLevelHint(provider: string, model: string): string {
  if (BINARY_THINKING_PROVIDERS.has(provider.trim().toLowerCase())) return "off|on";
  const base = "off|minimal|low|medium|high";
  return supportsXHighThinking(provider, model) ? `${base}|xhigh` : base;
}
