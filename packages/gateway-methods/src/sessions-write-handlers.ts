import {
  isValidSessionId,
  normalizeSessionEntryDelivery,
  type SessionEntry,
  type SessionStore,
  type SessionsCompactParams,
  type SessionsCompactResult,
  type SessionsDeleteParams,
  type SessionsDeleteResult,
  SessionsError,
  type SessionsPatchParams,
  type SessionsPatchResult,
  type SessionsResetParams,
  type SessionsResetResult,
} from "@clawkeep/schema";
import {
  applySessionsPatchToStore,
  buildResetSessionEntry,
  findStoreEntry,
  indexStoreLabels,
  resolveAgentMainSessionKey,
  resolveMainSessionKey,
  type SessionStoreTarget,
  type SessionsConfig,
} from "@clawkeep/session-utils";
import {
  archiveTranscript,
  compactTranscript,
  findTranscriptFile,
  resolveSessionTranscriptCandidates,
  type TranscriptArchiveReason,
} from "@clawkeep/transcripts";
import type { Logger } from "./logger.ts";
import type { SessionChangeFeed } from "./session-change-feed.ts";
import { type SessionMethodContext, transcriptLocatorFor } from "./session-method-context.ts";
import {
  type SessionRuntimeHooks,
  type SessionRuntimeTarget,
  stopSessionRuntime,
} from "./session-runtime-hooks.ts";
import {
  entryOfDraft,
  findKeySpellings,
  findListedSpellings,
  keysOfDraft,
  listSessionSpellings,
  viewOfKeys,
} from "./store-view.ts";

/** What the write handlers need beside the shared context. */
export interface SessionWriteDependencies {
  context: SessionMethodContext;
  feed: SessionChangeFeed;
  hooks: SessionRuntimeHooks;
  /** How long reset and delete wait for an aborted run. */
  activeWaitMs: number;
}

/** openclaw's default for `sessions.compact`'s `maxLines`. */
const DEFAULT_COMPACT_MAX_LINES = 400;

/** Makes sure a subscriber hears about a write to a store that was not watched yet. */
async function watchTarget(
  dependencies: SessionWriteDependencies,
  cfg: SessionsConfig,
  target: SessionStoreTarget,
): Promise<void> {
  if (!dependencies.feed.active) return;
  await dependencies.feed.watch({
    agentId: target.agentId,
    storePath: target.storePath,
    mainKey: cfg.session.mainKey,
    backend: dependencies.context.store(target.storePath),
  });
}

function runtimeTarget(
  rawKey: string,
  target: SessionStoreTarget,
  entry: SessionEntry | undefined,
  spellings: readonly string[],
): SessionRuntimeTarget {
  const aliases = [
    ...new Set([rawKey.trim(), ...target.storeKeys, ...spellings].filter((key) => key !== "")),
  ].filter((key) => key !== target.canonicalKey);
  const sessionId = entry?.sessionId?.trim();
  return {
    key: target.canonicalKey,
    agentId: target.agentId,
    ...(sessionId === undefined || sessionId === "" ? {} : { sessionId }),
    ...(aliases.length === 0 ? {} : { aliases }),
  };
}

/**
 * Renames every transcript of `entries` found where openclaw looks (the store's dir, the agent's
 * dir, the legacy dir) to `<file>.<reason>.<time>`. A transcript that cannot be archived stays
 * where it is and is logged; the entry change it follows is already committed.
 */
async function archiveTranscripts(
  context: SessionMethodContext,
  target: SessionStoreTarget,
  entries: readonly SessionEntry[],
  reason: TranscriptArchiveReason,
  logger: Logger,
): Promise<string[]> {
  const archived: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const sessionId = entry.sessionId?.trim() ?? "";
    if (!isValidSessionId(sessionId)) continue;
    const candidates = resolveSessionTranscriptCandidates(
      transcriptLocatorFor(context, target, { sessionId, sessionFile: entry.sessionFile }),
    );
    for (const file of candidates) {
      if (seen.has(file)) continue;
      seen.add(file);
      try {
        const path = await archiveTranscript(file, reason);
        if (path !== null) archived.push(path);
      } catch (error) {
        logger.warn("cannot archive a transcript", {
          path: file,
          reason,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  return archived;
}

/** The entries under `keys`; a value that is not an object (`null`) is no session and is skipped. */
function entriesOf(draft: SessionStore, keys: readonly string[]): SessionEntry[] {
  const entries: SessionEntry[] = [];
  for (const key of keys) {
    const entry: unknown = entryOfDraft(draft, key);
    if (typeof entry === "object" && entry !== null) entries.push(entry as SessionEntry);
  }
  return entries;
}

// Labels given by the label patches of a batch, by the committed snapshot the batch started from:
// the batch's later patches see them before they are committed. A claim whose patch then failed
// is harmless: every holder is checked against the draft.
const labelClaims = new WeakMap<object, Map<string, Set<string>>>();

function batchLabelClaims(committed: object): Map<string, Set<string>> {
  let claims = labelClaims.get(committed);
  if (claims === undefined) {
    claims = new Map();
    labelClaims.set(committed, claims);
  }
  return claims;
}

/** `sessions.patch`: the patch rules applied under the store's lock; a rejected patch writes nothing. */
export async function patchSession(
  dependencies: SessionWriteDependencies,
  params: SessionsPatchParams,
): Promise<SessionsPatchResult> {
  const { context } = dependencies;
  const cfg = await context.config();
  const { key, ...patch } = params;
  const target = context.target(cfg, key);
  await watchTarget(dependencies, cfg, target);
  const lookup = context.keyLookup(target.storePath);
  const backend = context.store(target.storePath);
  const result = await backend.update(async (draft) => {
    // The patch reads the listed spellings of its own session directly. Only when none is stored
    // (the patch would create the session) is every key looked through, for a twin spelt in
    // another case that the patch then moves to the canonical key.
    let spellings = findListedSpellings(draft, target);
    if (spellings.length === 0) spellings = await findKeySpellings(lookup, target);
    const lookups = viewOfKeys(draft, spellings);
    if (typeof patch.label !== "string") {
      return applySessionsPatchToStore({ cfg, store: draft, snapshot: lookups, target, patch });
    }
    // Label uniqueness: the holders of a label are those of the committed state (an index built
    // once per snapshot) and those written earlier in this batch, each read as it is now.
    const committed = await backend.snapshot();
    const claims = batchLabelClaims(committed);
    const labelHolders = (label: string) => {
      const keys = new Set([
        ...(indexStoreLabels(committed).get(label) ?? []),
        ...(claims.get(label) ?? []),
      ]);
      return [...keys].map((holder) => [holder, entryOfDraft(draft, holder)] as const);
    };
    const outcome = applySessionsPatchToStore({
      cfg,
      store: draft,
      snapshot: lookups,
      target,
      patch,
      labelHolders,
    });
    if (outcome.ok && outcome.entry.label !== undefined) {
      const holders = claims.get(outcome.entry.label) ?? new Set<string>();
      holders.add(outcome.key);
      claims.set(outcome.entry.label, holders);
    }
    return outcome;
  });
  if (!result.ok) throw new SessionsError(result.error.code, result.error.message);
  return {
    ok: true,
    path: target.storePath,
    key: result.key,
    // The store normalises delivery fields as it writes; the caller gets what was stored.
    entry: normalizeSessionEntryDelivery(result.entry),
    resolved: result.resolved,
  };
}

/**
 * Quiets the session (queues, subagents, its run) and reads what a reset or delete acts on.
 * Throws `SESSION_ACTIVE` when a run outlives the wait, before anything is changed.
 */
async function quietSession(
  dependencies: SessionWriteDependencies,
  cfg: SessionsConfig,
  rawKey: string,
  target: SessionStoreTarget,
): Promise<void> {
  const snapshot = await dependencies.context.store(target.storePath).snapshot();
  const found = findStoreEntry(snapshot, target);
  const spellings = listSessionSpellings(Object.keys(snapshot), cfg, target);
  await stopSessionRuntime(
    dependencies.hooks,
    runtimeTarget(rawKey, target, found?.entry, spellings),
    { timeoutMs: dependencies.activeWaitMs },
  );
}

/**
 * `sessions.reset`: a new session id under the canonical key, with 2.12's kept fields; every
 * other spelling of the session is removed and the old transcript is archived as `.reset.<time>`.
 */
export async function resetSession(
  dependencies: SessionWriteDependencies,
  params: SessionsResetParams,
  logger: Logger,
): Promise<SessionsResetResult> {
  const { context, feed } = dependencies;
  const cfg = await context.config();
  const target = context.target(cfg, params.key);
  await quietSession(dependencies, cfg, params.key, target);
  await watchTarget(dependencies, cfg, target);
  const expected = feed.expect(target.storePath, target.agentId, target.canonicalKey, "reset");
  let changed = false;
  let outcome: { entry: SessionEntry; previous: SessionEntry[] };
  try {
    outcome = await context.store(target.storePath).update((draft) => {
      const spellings = listSessionSpellings(keysOfDraft(draft), cfg, target);
      const previous = entriesOf(draft, spellings);
      // The newest spelling is the session as lookups see it; its choices carry over.
      const current = previous.reduce<SessionEntry | undefined>(
        (newest, entry) =>
          newest === undefined || (entry.updatedAt ?? 0) > (newest.updatedAt ?? 0) ? entry : newest,
        undefined,
      );
      const entry = buildResetSessionEntry(current);
      for (const spelling of spellings) {
        if (spelling !== target.canonicalKey) delete draft[spelling];
      }
      draft[target.canonicalKey] = entry;
      return { entry, previous };
    });
    changed = true;
  } finally {
    expected.finish(changed);
  }
  const replaced = outcome.previous.filter((entry) => entry.sessionId !== outcome.entry.sessionId);
  await archiveTranscripts(context, target, replaced, "reset", logger);
  return {
    ok: true,
    key: target.canonicalKey,
    entry: normalizeSessionEntryDelivery(outcome.entry),
  };
}

/**
 * `sessions.delete`: refuses main sessions, quiets the session, removes every spelling of its
 * key in one write, and archives its transcripts (`.deleted.<time>`) only when an entry was
 * actually removed.
 */
export async function deleteSession(
  dependencies: SessionWriteDependencies,
  params: SessionsDeleteParams,
  logger: Logger,
): Promise<SessionsDeleteResult> {
  const { context } = dependencies;
  const cfg = await context.config();
  const target = context.target(cfg, params.key);
  const canonical = target.canonicalKey;
  if (
    canonical === resolveMainSessionKey(cfg) ||
    canonical === resolveAgentMainSessionKey(cfg, target.agentId)
  ) {
    throw new SessionsError("INVALID_PARAMS", `Cannot delete the main session (${canonical}).`);
  }
  await quietSession(dependencies, cfg, params.key, target);
  await watchTarget(dependencies, cfg, target);
  const removed = await context.store(target.storePath).update((draft) => {
    const spellings = listSessionSpellings(keysOfDraft(draft), cfg, target);
    const entries = entriesOf(draft, spellings);
    for (const spelling of spellings) delete draft[spelling];
    return entries;
  });
  const deleted = removed.length > 0;
  const archived =
    deleted && params.deleteTranscript !== false
      ? await archiveTranscripts(context, target, removed, "deleted", logger)
      : [];
  return { ok: true, key: canonical, deleted, archived };
}

/** Throws `INVALID_PARAMS` when a key of `target` holds a value that is not an entry (`null`). */
function assertSessionEntries(
  store: Readonly<Record<string, unknown>>,
  target: SessionStoreTarget,
): void {
  for (const key of [target.canonicalKey, ...target.storeKeys]) {
    const value = Object.hasOwn(store, key) ? store[key] : undefined;
    if (value !== undefined && (typeof value !== "object" || value === null)) {
      throw new SessionsError("INVALID_PARAMS", `invalid session entry for ${key}`);
    }
  }
}

/**
 * `sessions.compact`: keeps the header and the newest `maxLines` entries of the transcript (under
 * the transcript lock, with a `.bak.<time>` backup), then clears the entry's token counters and
 * bumps its `updatedAt`. Reads the store without writing it unless the transcript was compacted.
 */
export async function compactSession(
  dependencies: SessionWriteDependencies,
  params: SessionsCompactParams,
): Promise<SessionsCompactResult> {
  const { context, feed } = dependencies;
  const cfg = await context.config();
  const target = context.target(cfg, params.key);
  const key = target.canonicalKey;
  const backend = context.store(target.storePath);
  const snapshot = await backend.snapshot();
  assertSessionEntries(snapshot, target);
  const found = findStoreEntry(snapshot, target);
  const sessionId = found?.entry.sessionId?.trim() ?? "";
  if (found === undefined || sessionId === "") {
    return { ok: true, key, compacted: false, reason: "no sessionId" };
  }
  const file = await findTranscriptFile(
    transcriptLocatorFor(context, target, { sessionId, sessionFile: found.entry.sessionFile }),
  );
  if (file === null) return { ok: true, key, compacted: false, reason: "no transcript" };
  const compaction = await compactTranscript(file, {
    maxLines: params.maxLines ?? DEFAULT_COMPACT_MAX_LINES,
  });
  if (compaction.reason === "no transcript") {
    return { ok: true, key, compacted: false, reason: "no transcript" };
  }
  if (!compaction.compacted || compaction.archived === null) {
    return { ok: true, key, compacted: false, kept: compaction.kept };
  }

  await watchTarget(dependencies, cfg, target);
  const expected = feed.expect(target.storePath, target.agentId, key, "compacted");
  try {
    const lookup = context.keyLookup(target.storePath);
    await backend.update(async (draft) => {
      const spellings = await findKeySpellings(lookup, target);
      const current = findStoreEntry(
        viewOfKeys(draft, [...target.storeKeys, ...spellings]),
        target,
      );
      // A session reset meanwhile has another transcript, whose counters are still right.
      if (current === undefined || current.entry.sessionId?.trim() !== sessionId) return;
      const entry: SessionEntry = { ...current.entry };
      delete entry.inputTokens;
      delete entry.outputTokens;
      delete entry.totalTokens;
      entry.updatedAt = Math.max(Date.now(), current.entry.updatedAt ?? 0);
      draft[current.key] = entry;
    });
  } finally {
    // The transcript changed even when the entry came out equal; subscribers hear of it either way.
    expected.finish(true);
  }
  return { ok: true, key, compacted: true, archived: compaction.archived, kept: compaction.kept };
}
