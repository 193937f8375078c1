import { appendFile, lstat, open, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import {
  inspectSessionEntry,
  isValidSessionId,
  type SessionStore,
  SessionsError,
} from "@clawkeep/schema";
import { listKeyTwins, type SessionsConfig } from "@clawkeep/session-utils";
import {
  DEFAULT_LOCK_STALE_MS,
  fsyncDirectory,
  invalidateSessionStoreCache,
  isProcessAlive,
  loadSessionStore,
  parseStoreBytes,
  pathExists,
  readSessionStoreLockOwner,
  withSessionStoreLock,
  writeFileAtomically,
} from "@clawkeep/store";
import {
  formatArchiveTimestamp,
  parseArchiveName,
  parseTranscriptLockOwner,
  resolveSessionFilePath,
  withTranscriptLock,
} from "@clawkeep/transcripts";
import type { LockSettings } from "../lock-settings.ts";
import { type AgentStoreLocation, listAgentStores } from "../state-stores.ts";
import { scanTranscript } from "./scan-transcript.ts";

/** `error`: broken, fix it; `warning`: suspicious or wasteful; `info`: for the record. */
export type DoctorSeverity = "error" | "warning" | "info";

export type DoctorProblemCode =
  | "store-corrupt"
  | "store-unreadable"
  | "invalid-entry"
  | "key-twins"
  | "stale-lock"
  | "held-lock"
  | "temp-file"
  | "missing-transcript"
  | "orphan-transcript"
  | "torn-line"
  | "malformed-lines"
  | "transcript-unreadable";

export interface DoctorProblem {
  code: DoctorProblemCode;
  severity: DoctorSeverity;
  agentId: string;
  /** The file concerned. */
  path: string;
  /** The store key concerned, for entry problems. */
  key?: string;
  message: string;
  /** `fix` repairs it. */
  fixable: boolean;
  /** It was repaired in this run. */
  fixed: boolean;
  details?: Record<string, unknown>;
}

export type DoctorActionCode =
  | "remove-lock"
  | "remove-temp-file"
  | "end-torn-line"
  | "quarantine-store"
  | "restore-store-backup";

/** One repair `fix` made or attempted. */
export interface DoctorAction {
  code: DoctorActionCode;
  path: string;
  /** Where a file was moved or copied to. */
  target?: string;
  ok: boolean;
  message: string;
}

export type DoctorArchiveKind = "deleted" | "reset" | "bak" | "store-backup" | "store-corrupt";

/** A file kept for the record: an archived transcript, a store backup or a quarantined store. */
export interface DoctorArchive {
  agentId: string;
  path: string;
  kind: DoctorArchiveKind;
  bytes: number;
}

export interface DoctorStoreSummary {
  agentId: string;
  storePath: string;
  /** `sessions.json` exists. */
  exists: boolean;
  /** It parses (a missing store reads as empty). */
  readable: boolean;
  entries: number;
  transcripts: number;
  archives: number;
  archiveBytes: number;
}

export interface DoctorReport {
  stateDir: string;
  /** Repairs were allowed. */
  fix: boolean;
  stores: DoctorStoreSummary[];
  problems: DoctorProblem[];
  actions: DoctorAction[];
  archives: DoctorArchive[];
  /** Unrepaired problems of severity `error`. */
  errors: number;
  /** Unrepaired problems of severity `warning`. */
  warnings: number;
  /** No unrepaired error or warning. */
  ok: boolean;
}

export interface RunDoctorOptions {
  /** The state dir holding `agents/<id>/sessions`. */
  stateDir: string;
  /**
   * Repair what is safe: remove stale locks and the temp files of dead writers, end torn last
   * lines, move a corrupt store aside and restore the newest readable backup. Without it nothing
   * on disk changes.
   * @default false
   */
  fix?: boolean;
  /** Sessions config (agents, `session.store`). @default every default */
  config?: SessionsConfig;
  /** Only this agent. @default every agent */
  agentId?: string;
  /** Check this store (a path, or a template with `{agentId}`). @default the configured stores */
  storePath?: string;
  /** How the store lock is taken for a repair. @default the store's defaults */
  lock?: LockSettings;
  /**
   * A transcript lock older than this is stale even when its owner seems alive; an agent run
   * holds it for the whole run.
   * @default 1800000 (30 minutes)
   */
  transcriptLockStaleMs?: number;
  /** Clock. @default Date.now */
  now?: () => number;
}

const TEMP_FILE = /^(.+)\.(\d+)\.[0-9A-Za-z-]+\.tmp$/;
const STORE_BACKUP = /^sessions\.json\.bak\.(\d+)$/;
const STORE_QUARANTINE = /^sessions\.json\.corrupt\./;
const DEFAULT_TRANSCRIPT_LOCK_STALE_MS = 30 * 60 * 1000;

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await lstat(path)).size;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return 0;
    throw error;
  }
}

async function listNames(dir: string): Promise<string[] | undefined> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return undefined;
    throw error;
  }
}

interface LockVerdict {
  stale: boolean;
  reason: string;
}

interface LockOwner {
  pid: number | undefined;
  host: string | undefined;
}

/** `pid 123 on host-a`, `pid unknown`: who wrote a lock, as far as it says. */
function describeLockOwner(owner: LockOwner): string {
  return `pid ${owner.pid ?? "unknown"}${owner.host === undefined ? "" : ` on ${owner.host}`}`;
}

/** Decides whether a lock is abandoned: its owner died on this host, or it outlived `staleMs`. */
function judgeLock(owner: LockOwner, ageMs: number, staleMs: number): LockVerdict {
  const sameHost = owner.host === undefined || owner.host === hostname();
  const age = `${Math.round(ageMs / 1000)} s old`;
  const who = describeLockOwner(owner);
  if (owner.pid !== undefined && sameHost) {
    if (!isProcessAlive(owner.pid))
      return { stale: true, reason: `${age}, its owner (${who}) is gone` };
    return { stale: false, reason: `${age}, held by the running process (${who})` };
  }
  if (ageMs > staleMs) {
    return {
      stale: true,
      reason: `${age}, older than ${Math.round(staleMs / 1000)} s with no live owner on this host (owner ${who})`,
    };
  }
  return { stale: false, reason: `${age}, owner ${who}` };
}

/** Removes a lock unless it was refreshed since it was judged (someone else took it). */
async function removeLock(path: string, mtimeMs: number): Promise<DoctorAction> {
  try {
    const current = await lstat(path);
    if (current.mtimeMs !== mtimeMs) {
      return {
        code: "remove-lock",
        path,
        ok: false,
        message: "the lock changed meanwhile; left in place",
      };
    }
    await rm(path, { recursive: current.isDirectory(), force: true });
    return { code: "remove-lock", path, ok: true, message: "removed the stale lock" };
  } catch (error) {
    if (errnoOf(error) === "ENOENT")
      return { code: "remove-lock", path, ok: true, message: "the lock was gone already" };
    return {
      code: "remove-lock",
      path,
      ok: false,
      message: `cannot remove: ${describeError(error)}`,
    };
  }
}

interface StoreCheckContext {
  location: AgentStoreLocation;
  names: string[];
  problems: DoctorProblem[];
  actions: DoctorAction[];
  archives: DoctorArchive[];
  fix: boolean;
  lock: LockSettings;
  transcriptLockStaleMs: number;
  now: () => number;
}

function addProblem(
  context: StoreCheckContext,
  problem: Omit<DoctorProblem, "agentId" | "fixed"> & { fixed?: boolean },
): DoctorProblem {
  const full: DoctorProblem = { agentId: context.location.agentId, fixed: false, ...problem };
  context.problems.push(full);
  return full;
}

/** A lock found by a check, with the verdict on it. */
interface JudgedLock {
  kind: "store" | "transcript";
  path: string;
  /** The mtime the verdict was based on: a lock touched since is left alone. */
  mtimeMs: number;
  verdict: LockVerdict;
  details: Record<string, unknown>;
  /** Appended to the message of a stale lock. */
  staleNote: string;
}

/** Reports a lock as held (info) or stale (error); with `fix`, removes a stale one. */
async function reportLock(context: StoreCheckContext, lock: JudgedLock): Promise<void> {
  if (!lock.verdict.stale) {
    addProblem(context, {
      code: "held-lock",
      severity: "info",
      path: lock.path,
      message: `${lock.kind} lock ${lock.verdict.reason}`,
      fixable: false,
      details: lock.details,
    });
    return;
  }
  const problem = addProblem(context, {
    code: "stale-lock",
    severity: "error",
    path: lock.path,
    message: `stale ${lock.kind} lock: ${lock.verdict.reason}${lock.staleNote}`,
    fixable: true,
    details: lock.details,
  });
  if (context.fix) {
    const action = await removeLock(lock.path, lock.mtimeMs);
    context.actions.push(action);
    problem.fixed = action.ok;
  }
}

async function checkStoreLock(context: StoreCheckContext): Promise<void> {
  const { storePath } = context.location;
  const owner = await readSessionStoreLockOwner(storePath);
  if (owner === undefined) return;
  const ageMs = Math.max(0, context.now() - owner.mtimeMs);
  const verdict = judgeLock(owner, ageMs, context.lock.staleMs ?? DEFAULT_LOCK_STALE_MS);
  const details = {
    pid: owner.pid,
    host: owner.host,
    ageMs,
    kind: owner.kind,
    createdAt: owner.createdAt,
  };
  await reportLock(context, {
    kind: "store",
    path: owner.lockPath,
    mtimeMs: owner.mtimeMs,
    verdict,
    details,
    staleNote: "; writers wait for it until they break it",
  });
}

async function checkTranscriptLock(context: StoreCheckContext, name: string): Promise<void> {
  const path = join(context.location.sessionsDir, name);
  let stats: Awaited<ReturnType<typeof lstat>>;
  let content = "";
  try {
    stats = await lstat(path);
    if (stats.isFile()) content = await readFile(path, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return;
    throw error;
  }
  const owner = parseTranscriptLockOwner(content) ?? {
    pid: undefined,
    host: undefined,
    createdAt: undefined,
  };
  const ageMs = Math.max(0, context.now() - stats.mtimeMs);
  const verdict =
    ageMs > context.transcriptLockStaleMs
      ? {
          stale: true,
          reason: `${Math.round(ageMs / 1000)} s old, older than any run (owner ${describeLockOwner(owner)})`,
        }
      : judgeLock(owner, ageMs, context.transcriptLockStaleMs);
  const target = path.slice(0, -".lock".length);
  const orphaned = !(await pathExists(target));
  const details = { pid: owner.pid, host: owner.host, ageMs, createdAt: owner.createdAt, orphaned };
  await reportLock(context, {
    kind: "transcript",
    path,
    mtimeMs: stats.mtimeMs,
    verdict,
    details,
    staleNote: orphaned ? "; its transcript does not exist" : "",
  });
}

async function checkTempFile(context: StoreCheckContext, name: string, pid: number): Promise<void> {
  const path = join(context.location.sessionsDir, name);
  const bytes = await sizeOf(path);
  if (isProcessAlive(pid)) {
    addProblem(context, {
      code: "temp-file",
      severity: "info",
      path,
      message: `temp file of the running process ${pid} (a write in progress)`,
      fixable: false,
      details: { pid, bytes },
    });
    return;
  }
  const problem = addProblem(context, {
    code: "temp-file",
    severity: "error",
    path,
    message: `temp file left by a writer that is gone (pid ${pid})`,
    fixable: true,
    details: { pid, bytes },
  });
  if (!context.fix) return;
  try {
    await unlink(path);
    context.actions.push({ code: "remove-temp-file", path, ok: true, message: "removed" });
    problem.fixed = true;
  } catch (error) {
    const gone = errnoOf(error) === "ENOENT";
    context.actions.push({
      code: "remove-temp-file",
      path,
      ok: gone,
      message: gone ? "gone already" : `cannot remove: ${describeError(error)}`,
    });
    problem.fixed = gone;
  }
}

/** Ends a torn last line with a newline, under the transcript lock, if it is still torn. */
async function endTornLine(path: string): Promise<DoctorAction> {
  try {
    return await withTranscriptLock(path, async () => {
      const handle = await open(path, "r");
      let lastByte: number | undefined;
      try {
        const { size } = await handle.stat();
        if (size > 0) {
          const buffer = Buffer.alloc(1);
          await handle.read(buffer, 0, 1, size - 1);
          lastByte = buffer[0];
        }
      } finally {
        await handle.close();
      }
      if (lastByte === undefined || lastByte === 0x0a) {
        return {
          code: "end-torn-line",
          path,
          ok: true,
          message: "the line had been ended meanwhile",
        } as DoctorAction;
      }
      await appendFile(path, "\n");
      return {
        code: "end-torn-line",
        path,
        ok: true,
        message: "ended the torn last line; readers skip it, and appends start on a new line",
      } as DoctorAction;
    });
  } catch (error) {
    return {
      code: "end-torn-line",
      path,
      ok: false,
      message: `cannot end the line: ${describeError(error)}`,
    };
  }
}

/** Entries of a readable store: validity, twins, and the transcripts they point to. */
async function checkEntries(
  context: StoreCheckContext,
  store: Readonly<SessionStore>,
): Promise<Set<string>> {
  const { storePath, sessionsDir } = context.location;
  const referenced = new Set<string>();
  for (const [key, entry] of Object.entries(store)) {
    const inspection = inspectSessionEntry(entry);
    const sessionId = (entry as { sessionId?: unknown } | null)?.sessionId;
    const validId = typeof sessionId === "string" && isValidSessionId(sessionId);
    if (!inspection.ok || inspection.issues.length > 0 || !validId) {
      const issues = inspection.issues.map((issue) => `${issue.path}: ${issue.message}`);
      if (typeof sessionId === "string" && !validId)
        issues.push(`/sessionId: not a safe session id`);
      addProblem(context, {
        code: "invalid-entry",
        severity: validId && inspection.ok ? "warning" : "error",
        path: storePath,
        key,
        message: `entry ${key} has invalid fields: ${issues.join("; ")}`,
        fixable: false,
        details: { issues },
      });
    }
    if (!validId) continue;
    let transcript: string;
    try {
      transcript = resolveSessionFilePath(sessionId, entry, { sessionsDir });
    } catch (error) {
      if (!SessionsError.isInstance(error)) throw error;
      addProblem(context, {
        code: "invalid-entry",
        severity: "error",
        path: storePath,
        key,
        message: `entry ${key}: ${error.message} (sessionFile ${String(entry.sessionFile)})`,
        fixable: false,
      });
      continue;
    }
    referenced.add(transcript);
    // Topic transcripts `<id>-topic-<n>.jsonl` belong to the entry of `<id>`.
    referenced.add(`${join(sessionsDir, sessionId)}-topic-`);
    if (!(await pathExists(transcript))) {
      addProblem(context, {
        code: "missing-transcript",
        severity: "warning",
        path: transcript,
        key,
        message: `entry ${key} points to ${transcript}, which does not exist (normal only for a session that has had no reply yet)`,
        fixable: false,
      });
    }
  }
  for (const twins of listKeyTwins(store)) {
    addProblem(context, {
      code: "key-twins",
      severity: "warning",
      path: storePath,
      key: twins.canonicalKey,
      message: `keys ${twins.keys.join(", ")} name one session and differ only in letter case; lookups use ${twins.winner}`,
      fixable: false,
      details: { keys: twins.keys, winner: twins.winner },
    });
  }
  return referenced;
}

function isReferenced(referenced: Set<string>, path: string): boolean {
  if (referenced.has(path)) return true;
  const topic = path.indexOf("-topic-");
  return topic > 0 && referenced.has(path.slice(0, topic + "-topic-".length));
}

/** Quarantines a corrupt store and restores the newest backup that parses, under the lock. */
async function repairCorruptStore(context: StoreCheckContext): Promise<boolean> {
  const { storePath, sessionsDir } = context.location;
  try {
    return await withSessionStoreLock(
      storePath,
      async () => {
        let bytes: Buffer;
        try {
          bytes = await readFile(storePath);
        } catch (error) {
          if (errnoOf(error) === "ENOENT") return true;
          throw error;
        }
        try {
          parseStoreBytes(storePath, bytes);
          // Repaired by someone else meanwhile.
          return true;
        } catch (error) {
          if (!SessionsError.hasCode(error, "STORE_CORRUPT")) throw error;
        }
        const quarantine = `${storePath}.corrupt.${formatArchiveTimestamp(context.now())}`;
        await rename(storePath, quarantine);
        await fsyncDirectory(sessionsDir);
        context.actions.push({
          code: "quarantine-store",
          path: storePath,
          target: quarantine,
          ok: true,
          message: "moved the corrupt store aside",
        });
        const backups = ((await listNames(sessionsDir)) ?? [])
          .map((name) => ({ name, match: STORE_BACKUP.exec(name) }))
          .filter((item) => item.match !== null)
          .sort((left, right) => Number(right.match?.[1]) - Number(left.match?.[1]));
        for (const backup of backups) {
          const path = join(sessionsDir, backup.name);
          const backupBytes = await readFile(path);
          try {
            parseStoreBytes(path, backupBytes);
          } catch (error) {
            if (SessionsError.hasCode(error, "STORE_CORRUPT")) continue;
            throw error;
          }
          await writeFileAtomically(storePath, backupBytes);
          context.actions.push({
            code: "restore-store-backup",
            path,
            target: storePath,
            ok: true,
            message: "restored the newest readable backup",
          });
          return true;
        }
        context.actions.push({
          code: "restore-store-backup",
          path: storePath,
          ok: false,
          message:
            "no readable sessions.json.bak.* to restore; the agent starts with an empty store",
        });
        return true;
      },
      context.lock,
    );
  } catch (error) {
    context.actions.push({
      code: "quarantine-store",
      path: storePath,
      ok: false,
      message: `cannot repair the store: ${describeError(error)}`,
    });
    return false;
  } finally {
    invalidateSessionStoreCache(storePath);
  }
}

async function checkStore(context: StoreCheckContext): Promise<DoctorStoreSummary> {
  const { agentId, storePath, sessionsDir } = context.location;
  const summary: DoctorStoreSummary = {
    agentId,
    storePath,
    exists: context.names.includes("sessions.json"),
    readable: true,
    entries: 0,
    transcripts: 0,
    archives: 0,
    archiveBytes: 0,
  };

  // Locks and temp files first: a repair of the store needs the lock.
  await checkStoreLock(context);
  for (const name of context.names) {
    if (name.endsWith(".lock") && name !== "sessions.json.lock")
      await checkTranscriptLock(context, name);
    const temp = TEMP_FILE.exec(name);
    if (temp !== null) await checkTempFile(context, name, Number(temp[2]));
  }

  let store: Readonly<SessionStore> | undefined;
  try {
    store = await loadSessionStore(storePath, { skipCache: true });
  } catch (error) {
    summary.readable = false;
    if (!SessionsError.hasCode(error, "STORE_CORRUPT")) {
      addProblem(context, {
        code: "store-unreadable",
        severity: "error",
        path: storePath,
        message: `cannot read the store: ${describeError(error)}`,
        fixable: false,
      });
    } else {
      const problem = addProblem(context, {
        code: "store-corrupt",
        severity: "error",
        path: storePath,
        message: `${describeError(error)}; writers refuse it until it is repaired`,
        fixable: true,
      });
      if (context.fix) {
        problem.fixed = await repairCorruptStore(context);
        if (problem.fixed) {
          problem.message = `${describeError(error)}; repaired: moved aside (see the actions)`;
          try {
            store = await loadSessionStore(storePath, { skipCache: true });
            summary.readable = true;
          } catch (reloadError) {
            if (!SessionsError.isInstance(reloadError)) throw reloadError;
          }
        }
      }
    }
  }
  const referenced = store === undefined ? undefined : await checkEntries(context, store);
  summary.entries = store === undefined ? 0 : Object.keys(store).length;

  for (const name of context.names) {
    const path = join(sessionsDir, name);
    const archive = parseArchiveName(name);
    const kind: DoctorArchiveKind | undefined =
      archive !== null
        ? archive.reason
        : STORE_BACKUP.test(name)
          ? "store-backup"
          : STORE_QUARANTINE.test(name)
            ? "store-corrupt"
            : undefined;
    if (kind !== undefined) {
      const bytes = await sizeOf(path);
      context.archives.push({ agentId, path, kind, bytes });
      summary.archives += 1;
      summary.archiveBytes += bytes;
      continue;
    }
    if (!name.endsWith(".jsonl")) continue;
    summary.transcripts += 1;
    if (referenced !== undefined && !isReferenced(referenced, path)) {
      addProblem(context, {
        code: "orphan-transcript",
        severity: "warning",
        path,
        message: "no entry of the store points to this transcript",
        fixable: false,
        details: { bytes: await sizeOf(path) },
      });
    }
    let scan: Awaited<ReturnType<typeof scanTranscript>>;
    try {
      scan = await scanTranscript(path);
    } catch (error) {
      if (errnoOf(error) === "ENOENT") continue;
      addProblem(context, {
        code: "transcript-unreadable",
        severity: "error",
        path,
        message: `cannot read: ${describeError(error)}`,
        fixable: false,
      });
      continue;
    }
    if (scan.malformedLines > 0) {
      addProblem(context, {
        code: "malformed-lines",
        severity: "warning",
        path,
        message: `${scan.malformedLines} line(s) are not JSON objects (lines ${scan.malformedLineNumbers.join(", ")}); readers skip them`,
        fixable: false,
        details: { lines: scan.malformedLineNumbers, count: scan.malformedLines },
      });
    }
    if (scan.tornLastLine) {
      const problem = addProblem(context, {
        code: "torn-line",
        severity: "error",
        path,
        message: "the last line is cut off (a write was interrupted)",
        fixable: true,
      });
      if (context.fix) {
        const action = await endTornLine(path);
        context.actions.push(action);
        problem.fixed = action.ok;
      }
    }
  }
  return summary;
}

/**
 * Checks every agent's store and transcripts in a state dir: the store parses and its entries
 * validate (invalid fields reported by key), locks are held by live owners, no temp files of
 * dead writers lie around, every entry's transcript exists and every transcript has an entry,
 * transcripts have no torn or malformed lines, no keys are case twins; archives are listed with
 * their sizes. With `fix`, the safe repairs are made and returned as actions; without it nothing
 * changes on disk.
 */
export async function runDoctor(options: RunDoctorOptions): Promise<DoctorReport> {
  const stateDir = resolve(options.stateDir);
  const fix = options.fix ?? false;
  const now = options.now ?? Date.now;
  const locations = await listAgentStores({
    stateDir,
    ...(options.config !== undefined && { config: options.config }),
    ...(options.agentId !== undefined && { agentId: options.agentId }),
    ...(options.storePath !== undefined && { storePath: options.storePath }),
  });
  const report: DoctorReport = {
    stateDir,
    fix,
    stores: [],
    problems: [],
    actions: [],
    archives: [],
    errors: 0,
    warnings: 0,
    ok: true,
  };
  for (const location of locations) {
    const names = await listNames(location.sessionsDir);
    if (names === undefined) continue;
    const summary = await checkStore({
      location,
      names,
      problems: report.problems,
      actions: report.actions,
      archives: report.archives,
      fix,
      lock: options.lock ?? {},
      transcriptLockStaleMs: options.transcriptLockStaleMs ?? DEFAULT_TRANSCRIPT_LOCK_STALE_MS,
      now,
    });
    report.stores.push(summary);
  }
  const open = report.problems.filter((problem) => !problem.fixed);
  report.errors = open.filter((problem) => problem.severity === "error").length;
  report.warnings = open.filter((problem) => problem.severity === "warning").length;
  report.ok = report.errors === 0 && report.warnings === 0;
  return report;
}
