import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import {
  isValidSessionId,
  type SessionEntry,
  type SessionStore,
  SessionsError,
} from "@clawkeep/schema";
import {
  createDefaultSessionsConfig,
  findStoreEntry,
  normalizeSessionKeyCase,
  resolveAgentMainSessionKey,
  resolveSessionStoreKey,
  type SessionsConfig,
} from "@clawkeep/session-utils";
import {
  capEntryCount,
  loadSessionStore,
  parseMaintenanceConfig,
  pathExists,
  pruneStaleEntries,
  type RemovedSessionEntry,
  rotateSessionFile,
  updateSessionStore,
  withSessionStoreLock,
} from "@clawkeep/store";
import { archiveTranscript, resolveSessionFilePath } from "@clawkeep/transcripts";
import type { LockSettings } from "./lock-settings.ts";
import { type AgentStoreLocation, listAgentStores } from "./state-stores.ts";

/** The rules applied, from `session.maintenance` unless overridden. */
export interface MaintenanceRules {
  /** Entries not updated for this long go. */
  pruneAfterMs: number;
  /** At most this many entries stay, newest first. */
  maxEntries: number;
  /** A larger store file is rotated to `sessions.json.bak.<ms>`. */
  rotateBytes: number;
}

/** An entry that goes (or went, with `enforce`). */
export interface MaintenanceRemoval {
  agentId: string;
  storePath: string;
  key: string;
  sessionId: string | undefined;
  updatedAt: number | undefined;
  /** `stale`: older than `pruneAfterMs`; `capped`: outside the newest `maxEntries`. */
  reason: "stale" | "capped";
  /** The transcript that is (or would be) archived as `.deleted.<time>`. */
  transcript?: string;
  /** Where it was archived; `null` when there was nothing to archive. */
  archived?: string | null;
}

export interface MaintenanceStoreResult {
  agentId: string;
  storePath: string;
  /** Entries before maintenance. */
  entries: number;
  removed: number;
  /** The file is larger than `rotateBytes` (rotated with `enforce`). */
  rotate: boolean;
  /**
   * With `enforce`: the backup the store was rotated to (`sessions.json.bak.<ms>`). Absent when
   * no rotation happened (the file was not larger than `rotateBytes` under the lock).
   */
  rotatedTo?: string;
  /** Keys never removed here: the main session and the active keys. */
  protectedKeys: string[];
  /** Why the store was not maintained (for example it is corrupt). */
  error?: string;
}

export interface MaintenanceReport {
  stateDir: string;
  /** Changes were made; otherwise the report says what would happen. */
  enforce: boolean;
  rules: MaintenanceRules;
  stores: MaintenanceStoreResult[];
  removals: MaintenanceRemoval[];
  /** Stores that could not be maintained. */
  errors: number;
  /** Notes that change no outcome, such as an active key that matches no entry. */
  warnings: string[];
}

export interface RunMaintenanceOptions {
  /** The state dir holding `agents/<id>/sessions`. */
  stateDir: string;
  /**
   * Remove the entries, archive their transcripts and rotate large stores. Without it, a dry run
   * lists what would go and why.
   * @default false
   */
  enforce?: boolean;
  /**
   * Keys that must stay whatever their age (sessions in use). The main sessions always stay. A
   * bare key (`s7`) means the session of the agent whose store is visited (`agent:<id>:s7`); an
   * active key that matches no entry is reported in `warnings`.
   */
  activeKeys?: readonly string[];
  /** Sessions config: `session.maintenance`, agents, main key, `session.store`. @default every default */
  config?: SessionsConfig;
  /** Rules that replace the configured ones. @default from `session.maintenance` */
  rules?: Partial<MaintenanceRules>;
  /** Only this agent. @default every agent */
  agentId?: string;
  /** This store instead of the configured ones (a path, or a template with `{agentId}`). */
  storePath?: string;
  /** How the store lock is taken. @default the store's defaults */
  lock?: LockSettings;
  /** Clock for the cutoff and archive names. @default Date.now */
  now?: () => number;
}

function transcriptOf(
  location: AgentStoreLocation,
  entry: SessionEntry | undefined,
): string | undefined {
  const sessionId = entry?.sessionId;
  if (typeof sessionId !== "string" || !isValidSessionId(sessionId)) return undefined;
  try {
    return resolveSessionFilePath(sessionId, entry, { sessionsDir: location.sessionsDir });
  } catch (error) {
    if (SessionsError.isInstance(error)) return undefined;
    throw error;
  }
}

/**
 * An active key as the gateway stores it, for the agent whose store is visited: a bare key gets
 * that agent (`s7` → `agent:<agentId>:s7`); fixed words are lower-cased and main aliases mapped.
 */
function qualifyActiveKey(key: string, config: SessionsConfig, agentId: string): string {
  const trimmed = key.trim();
  const lower = normalizeSessionKeyCase(trimmed, { mainKey: config.session.mainKey }).toLowerCase();
  const qualified =
    lower === "global" || lower === "unknown" || lower.startsWith("agent:")
      ? trimmed
      : `agent:${agentId}:${trimmed}`;
  return resolveSessionStoreKey({ cfg: config, sessionKey: qualified });
}

function protectedKeysOf(
  store: Readonly<SessionStore>,
  config: SessionsConfig,
  agentId: string,
  activeKeys: readonly string[],
  matched: Set<string>,
): string[] {
  const keys = new Set<string>();
  const lookup = (wanted: string): boolean => {
    keys.add(wanted);
    // The stored spelling may differ in the case of its fixed words.
    const found = findStoreEntry(store, wanted, { mainKey: config.session.mainKey });
    if (found !== undefined) keys.add(found.key);
    return found !== undefined;
  };
  lookup(resolveAgentMainSessionKey(config, agentId));
  for (const active of activeKeys) {
    const qualified = qualifyActiveKey(active, config, agentId);
    // The key as typed too: a store may hold a bare key as openclaw once wrote it.
    const found = [lookup(qualified), lookup(active.trim())].some(Boolean);
    if (found) matched.add(active);
  }
  return [...keys].filter((key) => key !== "");
}

/**
 * Rotates the store under its lock when it is larger than `rotateBytes`: the backup is a hard
 * link (a copy where links are not possible) and the store stays in place, so nothing is lost
 * when no entry changes. Returns the backup path, or undefined when nothing was rotated.
 */
async function rotateStore(
  storePath: string,
  rotateBytes: number,
  options: { lock: LockSettings; now: () => number },
): Promise<string | undefined> {
  return await withSessionStoreLock(
    storePath,
    async () => {
      let stamp: number | undefined;
      const rotated = await rotateSessionFile(storePath, {
        rotateBytes,
        keepOriginal: true,
        now: () => {
          stamp = options.now();
          return stamp;
        },
      });
      return rotated && stamp !== undefined ? `${storePath}.bak.${stamp}` : undefined;
    },
    options.lock,
  );
}

/** What the rules would remove from a store, computed on a copy. */
function planRemovals(
  store: Readonly<SessionStore>,
  rules: MaintenanceRules,
  protectedKeys: string[],
  now: () => number,
): RemovedSessionEntry[] {
  const copy: SessionStore = { ...store };
  const before = Object.keys(copy);
  pruneStaleEntries(copy, { pruneAfterMs: rules.pruneAfterMs, protectedKeys, now });
  const afterPrune = new Set(Object.keys(copy));
  capEntryCount(copy, { maxEntries: rules.maxEntries, protectedKeys });
  const afterCap = new Set(Object.keys(copy));
  const removed: RemovedSessionEntry[] = [];
  for (const key of before) {
    const entry = store[key] as SessionEntry;
    if (!afterPrune.has(key)) removed.push({ key, entry, reason: "stale" });
    else if (!afterCap.has(key)) removed.push({ key, entry, reason: "capped" });
  }
  return removed;
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}

/**
 * Applies the store's maintenance rules on demand: entries older than `pruneAfterMs` go, then
 * all but the newest `maxEntries`, and a store larger than `rotateBytes` is rotated. The main
 * session of each agent and the active keys never go. By default nothing changes and the report
 * lists each entry that would go and why; with `enforce` the entries are removed under the store
 * lock and their transcripts archived as `<file>.deleted.<time>` (unless another entry still
 * uses the transcript).
 */
export async function runMaintenance(options: RunMaintenanceOptions): Promise<MaintenanceReport> {
  const stateDir = resolve(options.stateDir);
  const config = options.config ?? createDefaultSessionsConfig();
  const configured = parseMaintenanceConfig(config.session.maintenance);
  const rules: MaintenanceRules = {
    pruneAfterMs: options.rules?.pruneAfterMs ?? configured.pruneAfterMs,
    maxEntries: options.rules?.maxEntries ?? configured.maxEntries,
    rotateBytes: options.rules?.rotateBytes ?? configured.rotateBytes,
  };
  const enforce = options.enforce ?? false;
  const now = options.now ?? Date.now;
  const activeKeys = options.activeKeys ?? [];
  const report: MaintenanceReport = {
    stateDir,
    enforce,
    rules,
    stores: [],
    removals: [],
    errors: 0,
    warnings: [],
  };
  const matchedActiveKeys = new Set<string>();
  const locations = await listAgentStores({
    stateDir,
    config,
    ...(options.agentId !== undefined && { agentId: options.agentId }),
    ...(options.storePath !== undefined && { storePath: options.storePath }),
  });

  for (const location of locations) {
    const result: MaintenanceStoreResult = {
      agentId: location.agentId,
      storePath: location.storePath,
      entries: 0,
      removed: 0,
      rotate: false,
      protectedKeys: [],
    };
    report.stores.push(result);
    let store: Readonly<SessionStore>;
    try {
      store = await loadSessionStore(location.storePath, { skipCache: true });
    } catch (error) {
      if (!SessionsError.isInstance(error)) throw error;
      result.error = error.message;
      report.errors += 1;
      continue;
    }
    result.entries = Object.keys(store).length;
    result.protectedKeys = protectedKeysOf(
      store,
      config,
      location.agentId,
      activeKeys,
      matchedActiveKeys,
    );
    result.rotate = (await fileSize(location.storePath)) > rules.rotateBytes;

    let removed: RemovedSessionEntry[] = [];
    let remaining: Readonly<SessionStore>;
    if (!enforce) {
      removed = planRemovals(store, rules, result.protectedKeys, now);
      const gone = new Set(removed.map((item) => item.key));
      remaining = Object.fromEntries(Object.entries(store).filter(([key]) => !gone.has(key)));
    } else {
      try {
        // The store rotates only when it writes, and it skips a write that changes no byte; the
        // rotation asked for here is made on its own, first, so that it happens either way.
        const rotatedTo = await rotateStore(location.storePath, rules.rotateBytes, {
          lock: options.lock ?? {},
          now,
        });
        if (rotatedTo !== undefined) result.rotatedTo = rotatedTo;
        await updateSessionStore(location.storePath, () => undefined, {
          ...options.lock,
          maintenance: {
            mode: "enforce",
            pruneAfterMs: rules.pruneAfterMs,
            maxEntries: rules.maxEntries,
            rotateBytes: Number.POSITIVE_INFINITY,
            protectedKeys: result.protectedKeys,
            now,
            onRemoved: (entries) => {
              removed = entries;
            },
          },
        });
        remaining = await loadSessionStore(location.storePath, { skipCache: true });
      } catch (error) {
        if (!SessionsError.isInstance(error)) throw error;
        result.error = error.message;
        report.errors += 1;
        continue;
      }
    }
    result.removed = removed.length;
    // A transcript another entry still points to stays where it is.
    const stillUsed = new Set(
      Object.values(remaining)
        .map((entry) => transcriptOf(location, entry))
        .filter((path): path is string => path !== undefined),
    );
    for (const { key, entry, reason } of removed) {
      const removal: MaintenanceRemoval = {
        agentId: location.agentId,
        storePath: location.storePath,
        key,
        sessionId: typeof entry?.sessionId === "string" ? entry.sessionId : undefined,
        updatedAt: typeof entry?.updatedAt === "number" ? entry.updatedAt : undefined,
        reason,
      };
      const transcript = transcriptOf(location, entry);
      if (
        transcript !== undefined &&
        !stillUsed.has(transcript) &&
        (await pathExists(transcript))
      ) {
        removal.transcript = transcript;
        if (enforce) removal.archived = await archiveTranscript(transcript, "deleted", { now });
      }
      report.removals.push(removal);
    }
  }
  for (const active of activeKeys) {
    if (matchedActiveKeys.has(active)) continue;
    const forms = [
      ...new Set(locations.map((location) => qualifyActiveKey(active, config, location.agentId))),
    ];
    report.warnings.push(
      `active key ${JSON.stringify(active)} matches no entry (looked up as ${forms.join(", ") || active}); it protects nothing`,
    );
  }
  return report;
}
