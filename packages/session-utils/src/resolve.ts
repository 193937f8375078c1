import type { SessionsResolveParams } from "@clawkeep/schema";
import type { Env } from "@clawkeep/store";
import {
  type CombinedSessionStore,
  type LoadStoreSnapshot,
  loadCombinedSessionStore,
  loadSnapshotFromFile,
} from "./combined-store.ts";
import type { SessionsConfig } from "./config/sessions-config.ts";
import { findStoreEntry } from "./keys/key-case.ts";
import { resolveGatewaySessionStoreTarget } from "./keys/store-target.ts";
import { parseSessionLabel } from "./labels.ts";
import { type SessionFilters, selectSessionKeys } from "./list/select-sessions.ts";
import type { SessionsOperationError } from "./patch/apply-patch.ts";

export interface ResolveSessionKeyParams {
  cfg: SessionsConfig;
  /** `sessions.resolve`'s params (validated). */
  params: SessionsResolveParams;
  /** State dir of the stores. @default resolved from `env` by `@clawkeep/store` */
  stateDir?: string;
  /** Environment for path resolution. @default process.env */
  env?: Env;
  /** How an agent's store is read. @default the file store of `@clawkeep/store` */
  loadStore?: LoadStoreSnapshot;
  /** A combined view already loaded, for lookups by session id or label. @default loaded here */
  combined?: CombinedSessionStore;
  /** Current time in epoch ms. @default Date.now */
  now?: () => number;
}

export type ResolveSessionKeyResult =
  | { ok: true; key: string }
  | { ok: false; error: SessionsOperationError };

function fail(code: SessionsOperationError["code"], message: string): ResolveSessionKeyResult {
  return { ok: false, error: { code, message } };
}

function nonBlank(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "";
}

/**
 * Resolves `sessions.resolve` to one canonical key, by exactly one of `key`, `sessionId` or
 * `label`, with openclaw's error texts. A key is looked up in its agent's store; a session id or
 * label in the combined view with the agentId, spawnedBy and include filters. A session id is
 * matched exactly against every row (a session's id or its key), so the session is found however
 * many other rows contain the id as a substring.
 */
export async function resolveSessionKeyFromResolveParams(
  options: ResolveSessionKeyParams,
): Promise<ResolveSessionKeyResult> {
  const { cfg, params } = options;
  const given = [params.key, params.sessionId, params.label].filter(nonBlank).length;
  if (given > 1) {
    return fail("INVALID_PARAMS", "Provide either key, sessionId, or label (not multiple)");
  }
  if (given === 0) return fail("INVALID_PARAMS", "Either key, sessionId, or label is required");
  const loadStore = options.loadStore ?? loadSnapshotFromFile;

  if (nonBlank(params.key)) {
    const rawKey = params.key.trim();
    const targetParams: Parameters<typeof resolveGatewaySessionStoreTarget>[0] = {
      cfg,
      key: rawKey,
    };
    if (options.stateDir !== undefined) targetParams.stateDir = options.stateDir;
    if (options.env !== undefined) targetParams.env = options.env;
    const target = resolveGatewaySessionStoreTarget(targetParams);
    const store = await loadStore(target.storePath);
    if (findStoreEntry(store, target) === undefined) {
      return fail("SESSION_NOT_FOUND", `No session found: ${rawKey}`);
    }
    return { ok: true, key: target.canonicalKey };
  }

  const combined = options.combined ?? (await loadCombined(options, loadStore));
  const filters: SessionFilters = {
    agentId: params.agentId,
    spawnedBy: params.spawnedBy,
    includeGlobal: params.includeGlobal,
    includeUnknown: params.includeUnknown,
  };
  const now = (options.now ?? Date.now)();

  if (nonBlank(params.sessionId)) {
    const sessionId = params.sessionId.trim();
    const matches = selectSessionKeys(combined.store, filters, { now }).filter((key) => {
      return key === sessionId || combined.store[key]?.sessionId === sessionId;
    });
    if (matches.length === 0) {
      return unreadable(combined) ?? fail("SESSION_NOT_FOUND", `No session found: ${sessionId}`);
    }
    if (matches.length > 1) {
      return fail(
        "INVALID_PARAMS",
        `Multiple sessions found for sessionId: ${sessionId} (${matches.join(", ")})`,
      );
    }
    return { ok: true, key: matches[0] as string };
  }

  const parsed = parseSessionLabel(params.label);
  if (!parsed.ok) return fail("INVALID_PARAMS", parsed.message);
  const matches = selectSessionKeys(combined.store, { ...filters, label: parsed.label }, { now });
  if (matches.length === 0) {
    return (
      unreadable(combined) ??
      fail("SESSION_NOT_FOUND", `No session found with label: ${parsed.label}`)
    );
  }
  if (matches.length > 1) {
    return fail(
      "INVALID_PARAMS",
      `Multiple sessions found with label: ${parsed.label} (${matches.join(", ")})`,
    );
  }
  return { ok: true, key: matches[0] as string };
}

/**
 * When a lookup found nothing and an agent store could not be read, the session may be in it: the
 * answer is that store's error (`STORE_CORRUPT` naming its path, as a lookup by key answers), not
 * "no session found". Several unreadable stores are named together.
 */
function unreadable(combined: CombinedSessionStore): ResolveSessionKeyResult | undefined {
  const [first] = combined.warnings;
  if (first === undefined) return undefined;
  const messages = combined.warnings.map((warning) => {
    const prefix = `skipped the store of agent ${warning.agentId}: `;
    return warning.message.startsWith(prefix)
      ? warning.message.slice(prefix.length)
      : warning.message;
  });
  return fail(first.code as SessionsOperationError["code"], messages.join("; "));
}

async function loadCombined(
  options: ResolveSessionKeyParams,
  loadStore: LoadStoreSnapshot,
): Promise<CombinedSessionStore> {
  const params: Parameters<typeof loadCombinedSessionStore>[0] = { cfg: options.cfg, loadStore };
  if (options.stateDir !== undefined) params.stateDir = options.stateDir;
  if (options.env !== undefined) params.env = options.env;
  return await loadCombinedSessionStore(params);
}
