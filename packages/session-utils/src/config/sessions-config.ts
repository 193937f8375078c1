import { DEFAULT_MAIN_KEY, normalizeAgentId, normalizeMainKey } from "@clawkeep/schema";
import type { SessionMaintenanceMode } from "@clawkeep/store";
import { z } from "zod";

/** How inbound direct chats map to sessions (`session.dmScope`). */
export const DM_SCOPES = [
  "main",
  "per-peer",
  "per-channel-peer",
  "per-account-channel-peer",
] as const;
export type DmScope = (typeof DM_SCOPES)[number];

/** `session.scope`: one session per sender, or one `global` session for everything. */
export const SESSION_SCOPES = ["per-sender", "global"] as const;
export type SessionScope = (typeof SESSION_SCOPES)[number];

/** One entry of `agents.list`, with its id normalised. */
export interface AgentConfig {
  id: string;
  default?: boolean;
  name?: string;
}

/** One entry of the model allowlist `agents.defaults.models`. */
export interface ModelAllowlistEntry {
  /** `provider/model` as written in the config. */
  key: string;
  provider: string;
  model: string;
  alias?: string;
}

/**
 * The part of an openclaw config file that sessions need, validated, with defaults applied.
 * Everything else in the file is ignored.
 */
export interface SessionsConfig {
  session: {
    scope: SessionScope;
    /** Normalised (trimmed, lower-cased); `main` by default. */
    mainKey: string;
    /** Raw `session.store`: a path template with `{agentId}`, or one fixed path for every agent. */
    store?: string;
    dmScope: DmScope;
    /**
     * `session.maintenance` with its value types checked, for the store's maintenance parser
     * (which applies the defaults and falls back on unparsable duration and size strings).
     */
    maintenance?: SessionMaintenanceInput;
  };
  agents: {
    list: AgentConfig[];
    defaults: {
      /** `agents.defaults.model` as `{ primary }` whichever form the file used. */
      model?: { primary?: string; fallbacks?: string[] };
      /** The model allowlist, in file order; empty when none is configured. */
      models: ModelAllowlistEntry[];
      contextTokens?: number;
    };
  };
  gateway: { auth: { token?: string } };
}

/** `session.maintenance` as written in the config; unknown keys are kept for the store's parser. */
export interface SessionMaintenanceInput {
  mode?: SessionMaintenanceMode | undefined;
  /** A duration: a number of days, or a string such as `"30d"` or `"12h"`. */
  pruneAfter?: string | number | undefined;
  /** Deprecated: days, used only when `pruneAfter` is absent. */
  pruneDays?: number | undefined;
  maxEntries?: number | undefined;
  /** A size: a number of bytes, or a string such as `"10mb"`. */
  rotateBytes?: string | number | undefined;
  [key: string]: unknown;
}

/** One problem found in a config, with the key path it concerns (`session.scope`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

export type ParseSessionsConfigResult =
  | { ok: true; config: SessionsConfig }
  | { ok: false; issues: ConfigIssue[] };

const objectError = { error: "expected an object" };
const nonEmptyString = z
  .string({ error: "expected a string" })
  .trim()
  .min(1, { error: "expected a non-empty string" });
const quotedList = (values: readonly string[]) => values.map((value) => `"${value}"`).join(" | ");

const modelRefPattern = /^[^/\s]+\/\S.*$/;

/** `session.maintenance.mode`: report only, or prune, cap and rotate. */
const MAINTENANCE_MODES = ["warn", "enforce"] as const satisfies readonly SessionMaintenanceMode[];
const finiteNumber = z.number({ error: "expected a number" });

// Types only: a duration or size string that does not parse falls back to the default in the
// store's parser, as in openclaw.
const MaintenanceSchema = z.looseObject(
  {
    mode: z
      .enum(MAINTENANCE_MODES, {
        error: `expected ${quotedList(MAINTENANCE_MODES)}`,
      })
      .optional(),
    pruneAfter: z
      .union([z.string(), finiteNumber], {
        error: 'expected a duration (a number of days or a string such as "30d")',
      })
      .optional(),
    pruneDays: finiteNumber.optional(),
    maxEntries: finiteNumber
      .int({ error: "expected an integer" })
      .positive({ error: "expected a positive integer" })
      .optional(),
    rotateBytes: z
      .union([z.string(), finiteNumber], {
        error: 'expected a size (a number of bytes or a string such as "10mb")',
      })
      .optional(),
  },
  objectError,
);

const ModelAllowlistValueSchema = z
  .object({ alias: nonEmptyString.optional() }, objectError)
  .nullish();

/**
 * The zod schema for the config keys sessions read. Unknown keys at every level are accepted and
 * dropped: real openclaw configs carry many sections sessions never look at.
 */
export const SessionsConfigSchema = z.object(
  {
    session: z
      .object(
        {
          scope: z
            .enum(SESSION_SCOPES, { error: `expected ${quotedList(SESSION_SCOPES)}` })
            .optional(),
          mainKey: z.string({ error: "expected a string" }).optional(),
          store: nonEmptyString.optional(),
          dmScope: z.enum(DM_SCOPES, { error: `expected ${quotedList(DM_SCOPES)}` }).optional(),
          maintenance: MaintenanceSchema.optional(),
        },
        objectError,
      )
      .optional(),
    agents: z
      .object(
        {
          list: z
            .array(
              z.object(
                {
                  id: nonEmptyString,
                  default: z.boolean({ error: "expected true or false" }).optional(),
                  name: z.string({ error: "expected a string" }).optional(),
                },
                objectError,
              ),
              { error: "expected an array" },
            )
            .optional(),
          defaults: z
            .object(
              {
                model: z
                  .union(
                    [
                      nonEmptyString,
                      z.object(
                        {
                          primary: nonEmptyString.optional(),
                          fallbacks: z
                            .array(nonEmptyString, { error: "expected an array of strings" })
                            .optional(),
                        },
                        objectError,
                      ),
                    ],
                    { error: 'expected "provider/model" or { primary: "provider/model" }' },
                  )
                  .optional(),
                models: z
                  .record(
                    z.string().regex(modelRefPattern, { error: 'expected a "provider/model" key' }),
                    ModelAllowlistValueSchema,
                    {
                      error: (issue) =>
                        issue.code === "invalid_key"
                          ? 'expected a "provider/model" key'
                          : "expected an object",
                    },
                  )
                  .optional(),
                contextTokens: z
                  .number({ error: "expected a number" })
                  .int({ error: "expected an integer" })
                  .positive({ error: "expected a positive integer" })
                  .optional(),
              },
              objectError,
            )
            .optional(),
        },
        objectError,
      )
      .optional(),
    gateway: z
      .object(
        {
          auth: z
            .object({ token: z.string({ error: "expected a string" }).optional() }, objectError)
            .optional(),
        },
        objectError,
      )
      .optional(),
  },
  objectError,
);

/** The raw shape `loadSessionsConfig` accepts as `overrides` (every key optional). */
export type SessionsConfigInput = z.input<typeof SessionsConfigSchema>;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Formats a zod path as a config key path: `agents.list[0].id`, `agents.defaults.models["a/b"]`. */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let result = "";
  for (const segment of path) {
    if (typeof segment === "number") result += `[${segment}]`;
    else if (typeof segment === "string" && IDENTIFIER.test(segment)) {
      result += result === "" ? segment : `.${segment}`;
    } else result += `[${JSON.stringify(String(segment))}]`;
  }
  return result === "" ? "(root)" : result;
}

/** Splits `provider/model` at the first slash; null when either side is empty. */
export function parseModelRef(raw: string): { provider: string; model: string } | null {
  const trimmed = raw.trim();
  const slash = trimmed.indexOf("/");
  if (slash <= 0) return null;
  const provider = trimmed.slice(0, slash).trim().toLowerCase();
  const model = trimmed.slice(slash + 1).trim();
  if (provider === "" || model === "") return null;
  return { provider, model };
}

/**
 * Validates a raw config object (the parsed JSON5 file, overrides already merged) and returns the
 * typed config with defaults applied, or every issue with its key path.
 */
export function parseSessionsConfig(raw: unknown): ParseSessionsConfigResult {
  const parsed = SessionsConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({
        path: formatConfigPath(issue.path),
        message: issue.message,
      })),
    };
  }
  const input = parsed.data;
  const session: SessionsConfig["session"] = {
    scope: input.session?.scope ?? "per-sender",
    mainKey: normalizeMainKey(input.session?.mainKey ?? DEFAULT_MAIN_KEY),
    dmScope: input.session?.dmScope ?? "main",
  };
  if (input.session?.store !== undefined) session.store = input.session.store;
  if (input.session?.maintenance !== undefined) session.maintenance = input.session.maintenance;

  const seen = new Set<string>();
  const list: AgentConfig[] = [];
  for (const agent of input.agents?.list ?? []) {
    const id = normalizeAgentId(agent.id);
    // openclaw lists each agent once; a repeated id adds nothing but its `default` flag.
    if (seen.has(id)) {
      const first = list.find((candidate) => candidate.id === id);
      if (first !== undefined && agent.default === true) first.default = true;
      continue;
    }
    seen.add(id);
    const entry: AgentConfig = { id };
    if (agent.default !== undefined) entry.default = agent.default;
    if (agent.name !== undefined) entry.name = agent.name;
    list.push(entry);
  }

  const defaultsInput = input.agents?.defaults;
  const defaults: SessionsConfig["agents"]["defaults"] = { models: [] };
  const modelInput = defaultsInput?.model;
  if (typeof modelInput === "string") defaults.model = { primary: modelInput };
  else if (modelInput !== undefined) {
    const model: { primary?: string; fallbacks?: string[] } = {};
    if (modelInput.primary !== undefined) model.primary = modelInput.primary;
    if (modelInput.fallbacks !== undefined) model.fallbacks = modelInput.fallbacks;
    defaults.model = model;
  }
  for (const [key, value] of Object.entries(defaultsInput?.models ?? {})) {
    const ref = parseModelRef(key);
    if (ref === null) continue;
    const entry: ModelAllowlistEntry = { key, provider: ref.provider, model: ref.model };
    if (value?.alias !== undefined) entry.alias = value.alias;
    defaults.models.push(entry);
  }
  if (defaultsInput?.contextTokens !== undefined) {
    defaults.contextTokens = defaultsInput.contextTokens;
  }

  const gateway: SessionsConfig["gateway"] = { auth: {} };
  if (input.gateway?.auth?.token !== undefined) gateway.auth.token = input.gateway.auth.token;

  return { ok: true, config: { session, agents: { list, defaults }, gateway } };
}

/** The config used when no file exists: every default. */
export function createDefaultSessionsConfig(): SessionsConfig {
  const result = parseSessionsConfig({});
  if (!result.ok) throw new Error("the empty config must be valid");
  return result.config;
}
