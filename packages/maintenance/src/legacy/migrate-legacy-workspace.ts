import { constants } from "node:fs";
import { copyFile, mkdir, readdir, readFile, stat, unlink, utimes } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import {
  checkSessionEntry,
  normalizeAgentId,
  type SessionEntry,
  type SessionStore,
  SessionsError,
  TranscriptHeaderSchema,
} from "@clawkeep/schema";
import {
  findStoreEntry,
  parseSessionLabel,
  resolveDefaultAgentId,
  type SessionsConfig,
} from "@clawkeep/session-utils";
import {
  createFileExclusively,
  fsyncDirectory,
  loadSessionStore,
  pathExists,
  removeOrphanedTempFiles,
  resolveStateDir,
  resolveStorePath,
  updateSessionStore,
} from "@clawkeep/store";
import {
  formatArchiveTimestamp,
  listTranscriptArchives,
  readTranscriptMessages,
  resolveSessionTranscriptPathInDir,
} from "@clawkeep/transcripts";
import type { LockSettings } from "../lock-settings.ts";
import { type LegacySession, parseLegacySession } from "./legacy-session.ts";
import { buildLegacyTranscript, type LegacyTranscript } from "./legacy-transcript.ts";
import {
  legacyFallbackKey,
  type MappedKey,
  mapLegacyKey,
  migratedSessionId,
} from "./migrated-ids.ts";

/** The folder of a legacy workspace that holds one `<id>.json` per session. */
export const LEGACY_SESSIONS_DIR_NAME = ".sessions";
/** The legacy file naming a key for some sessions. */
export const LEGACY_SESSION_MAP_FILE = "session_map.json";
/**
 * `details.reason` of the `INVALID_PARAMS` error thrown when the folder given is not a legacy
 * workspace (it does not exist, or has no `.sessions` folder), so a caller can tell it from an
 * unreadable `session_map.json`.
 */
export const NOT_A_LEGACY_WORKSPACE = "not-a-legacy-workspace";

/**
 * Folders inside `.sessions/` that hold copies, not sessions: the backups this migration takes
 * (`backup-<time>`, `backup-<time>-<n>`) and the old migration tool's `backup_old_format`.
 */
const BACKUP_DIR = /^(?:backup-\d{4}-\d{2}-\d{2}T[\d.-]+Z(?:-\d+)?|backup_old_format)$/;

/** What happened (or, in a dry run, would happen) to one legacy file. */
export type MigrationItemStatus = "migrated" | "skipped" | "conflict" | "error";

export interface MigrationItem {
  /**
   * The legacy file's path inside `.sessions/`, with `/` between folders: the legacy layer used
   * the id raw as the file name, so the id `a/b` lives at `.sessions/a/b.json`.
   */
  file: string;
  /** The legacy session id (the file's path without `.json`: `a/b`). */
  legacyId: string;
  status: MigrationItemStatus;
  /** Why it was skipped, conflicted or failed, or a note on a migrated session. */
  reason?: string;
  /** The session id in the store (the legacy id when it is a safe id). */
  sessionId?: string;
  /** The store key. */
  key?: string;
  agentId?: string;
  storePath?: string;
  transcriptPath?: string;
  /** Messages converted into `message` entries. */
  messages?: number;
}

/** A legacy id that could not be a file name and was given a new session id. */
export interface MigrationMapping {
  file: string;
  legacyId: string;
  sessionId: string;
  key: string;
  agentId: string;
}

export interface MigrationProgress {
  phase: "read" | "backup" | "write" | "check";
  done: number;
  total: number;
  file?: string;
}

export interface MigrationReport {
  workspaceDir: string;
  sessionsDir: string;
  dryRun: boolean;
  /** Legacy session files found (every `*.json` in `.sessions/` but the map and a store). */
  found: number;
  migrated: number;
  skipped: number;
  conflicts: number;
  errors: number;
  mappings: MigrationMapping[];
  /**
   * Where the legacy files were copied before anything was written; in a dry run, where they
   * would be copied.
   */
  backupDir?: string;
  /**
   * The stores that received entries (in a dry run, that would receive them). A store whose
   * update failed is not listed.
   */
  stores: string[];
  /** The transcripts created by this run (in a dry run, that would be created). */
  transcripts: string[];
  /** Notes that concern no single file (unusable `session_map.json` entries). */
  warnings: string[];
  items: MigrationItem[];
}

export interface MigrateLegacyWorkspaceOptions {
  /**
   * Agent whose store receives every session that `session_map.json` does not route to
   * another agent.
   * @default the config's default agent, else "main"
   */
  agentId?: string;
  /** State dir holding `agents/<id>/sessions`. @default resolved from the environment */
  stateDir?: string;
  /**
   * The sessions config: its `session.store` says where each agent's store is (the store the
   * gateway reads), and its default agent receives the unmapped sessions.
   * @default every default (stores under `<stateDir>/agents/<id>/sessions`)
   */
  config?: SessionsConfig;
  /**
   * Store to write instead of the configured one: a path (one store for every agent), or a
   * template containing `{agentId}`. Transcripts go beside it.
   * @default `config.session.store`, else `<stateDir>/agents/<agentId>/sessions/sessions.json`
   */
  storePath?: string;
  /** Report what would happen and write nothing at all. @default false */
  dryRun?: boolean;
  /**
   * Copy the legacy files to `.sessions/backup-<time>/` before the first write. Costs one copy
   * of the legacy files per run that writes something (a rerun that finds nothing to do takes
   * none).
   * @default true
   */
  backup?: boolean;
  /** Called as files are read, backed up, written and checked. @default none */
  onProgress?: (progress: MigrationProgress) => void;
  /** How the store locks are taken. @default the store's defaults */
  lock?: LockSettings;
  /** Clock for the backup folder name. @default Date.now */
  now?: () => number;
}

type PlannedAction = "write" | "resume" | "transcript-only";

interface PlannedItem {
  item: MigrationItem;
  session: LegacySession;
  target: MappedKey;
  sessionId: string;
  storePath: string;
  transcriptPath: string;
  transcript: LegacyTranscript;
  entry: SessionEntry;
  wantedLabel?: string;
  action?: PlannedAction;
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `<workspace>/.sessions`, or the folder itself when it is the `.sessions` folder. */
async function resolveLegacySessionsDir(workspaceDir: string): Promise<string> {
  const nested = join(workspaceDir, LEGACY_SESSIONS_DIR_NAME);
  for (const candidate of [nested, workspaceDir]) {
    if (candidate === workspaceDir && basename(workspaceDir) !== LEGACY_SESSIONS_DIR_NAME) continue;
    try {
      if ((await stat(candidate)).isDirectory()) return candidate;
    } catch (error) {
      if (errnoOf(error) !== "ENOENT" && errnoOf(error) !== "ENOTDIR") throw error;
    }
  }
  let workspaceExists = false;
  try {
    workspaceExists = (await stat(workspaceDir)).isDirectory();
  } catch (error) {
    if (errnoOf(error) !== "ENOENT" && errnoOf(error) !== "ENOTDIR") throw error;
  }
  const message = workspaceExists
    ? `no legacy sessions folder at ${nested}: pass the workspace folder that contains ${LEGACY_SESSIONS_DIR_NAME}/`
    : `workspace folder ${workspaceDir} does not exist: pass the workspace folder that contains ${LEGACY_SESSIONS_DIR_NAME}/`;
  throw new SessionsError("INVALID_PARAMS", message, {
    details: { path: workspaceExists ? nested : workspaceDir, reason: NOT_A_LEGACY_WORKSPACE },
  });
}

/**
 * Every legacy session file under `.sessions/`, as paths relative to it with `/` separators,
 * sorted. The legacy layer used the id raw as the file name, so an id with `/` made subfolders:
 * they are searched too, except the backup folders (see {@link BACKUP_DIR}). `session_map.json`
 * and a `sessions.json` at the top are not sessions.
 */
async function listLegacyFiles(sessionsDir: string): Promise<string[]> {
  const files: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const atTop = dir === sessionsDir;
      if (entry.isDirectory()) {
        if (!(atTop && BACKUP_DIR.test(entry.name))) await walk(path);
        continue;
      }
      if (!entry.isFile() || !entry.name.endsWith(".json")) continue;
      if (atTop && (entry.name === LEGACY_SESSION_MAP_FILE || entry.name === "sessions.json"))
        continue;
      files.push(relative(sessionsDir, path).split(sep).join("/"));
    }
  }
  await walk(sessionsDir);
  return files.sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
}

/**
 * Reads `session_map.json` (key → session id) into id → keys, in file order. A map that cannot
 * be read stops the migration before anything is written: without it, mapped sessions would get
 * fallback keys that a later run could not undo.
 */
async function readSessionMap(
  sessionsDir: string,
  defaultAgentId: string,
  warnings: string[],
): Promise<Map<string, MappedKey[]>> {
  const path = join(sessionsDir, LEGACY_SESSION_MAP_FILE);
  const byId = new Map<string, MappedKey[]>();
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return byId;
    throw new SessionsError("STORE_IO", `cannot read ${path}: ${describeError(error)}`, {
      details: { path },
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SessionsError(
      "INVALID_PARAMS",
      `cannot read ${path}: invalid JSON (${describeError(error)}); fix it or move it aside, then run the migration again`,
      { details: { path }, cause: error },
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SessionsError(
      "INVALID_PARAMS",
      `cannot read ${path}: not a JSON object of key → session id; fix it or move it aside, then run the migration again`,
      { details: { path } },
    );
  }
  for (const [rawKey, id] of Object.entries(value)) {
    if (typeof id !== "string" || id === "") {
      warnings.push(
        `${LEGACY_SESSION_MAP_FILE}: key ${JSON.stringify(rawKey)} names no session id; ignored`,
      );
      continue;
    }
    const mapped = mapLegacyKey(rawKey, defaultAgentId);
    if (mapped === undefined) {
      warnings.push(
        `${LEGACY_SESSION_MAP_FILE}: key ${JSON.stringify(rawKey)} is not a session key; ignored`,
      );
      continue;
    }
    const keys = byId.get(id);
    if (keys === undefined) byId.set(id, [mapped]);
    else keys.push(mapped);
  }
  return byId;
}

function countStatuses(report: MigrationReport): void {
  const count = (status: MigrationItemStatus) =>
    report.items.filter((item) => item.status === status).length;
  report.migrated = count("migrated");
  report.skipped = count("skipped");
  report.conflicts = count("conflict");
  report.errors = count("error");
}

function fail(item: MigrationItem, status: "conflict" | "error" | "skipped", reason: string): void {
  item.status = status;
  item.reason = reason;
}

function addNote(item: MigrationItem, note: string): void {
  item.reason = item.reason === undefined ? note : `${item.reason}; ${note}`;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw error;
  }
}

/** Converts one legacy file into a planned item, or records why it cannot be. */
async function planFile(
  sessionsDir: string,
  file: string,
  context: {
    agentId: string;
    stateDir: string;
    storePath: string | undefined;
    workspaceDir: string;
    sessionMap: Map<string, MappedKey[]>;
  },
): Promise<{ item: MigrationItem; planned?: PlannedItem }> {
  const legacyId = file.slice(0, -".json".length);
  const item: MigrationItem = { file, legacyId, status: "migrated" };
  const path = join(sessionsDir, file);
  let text: string;
  let mtimeMs: number;
  try {
    text = await readFile(path, "utf8");
    mtimeMs = Math.floor((await stat(path)).mtimeMs);
  } catch (error) {
    fail(item, "error", `cannot read ${path}: ${describeError(error)}`);
    return { item };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(
      item,
      "error",
      `invalid JSON in ${path} (${describeError(error)}); fix or remove the file, then run the migration again`,
    );
    return { item };
  }
  const parsed = parseLegacySession(legacyId, value);
  if (!parsed.ok) {
    if (parsed.kind === "not-a-session")
      fail(item, "skipped", `not a legacy session file (${parsed.reason})`);
    else fail(item, "error", `not a valid legacy session in ${path}: ${parsed.reason}`);
    return { item };
  }
  const session = parsed.session;
  const mappedKeys =
    context.sessionMap.get(legacyId) ??
    (session.declaredId === undefined ? undefined : context.sessionMap.get(session.declaredId));
  const target: MappedKey = mappedKeys?.[0] ?? {
    key: legacyFallbackKey(context.agentId, legacyId),
    agentId: context.agentId,
  };
  if (mappedKeys !== undefined && mappedKeys.length > 1) {
    addNote(
      item,
      `${LEGACY_SESSION_MAP_FILE} also names it as ${mappedKeys
        .slice(1)
        .map((mapped) => mapped.key)
        .join(", ")}; only ${target.key} is used`,
    );
  }
  const sessionId = migratedSessionId(legacyId);
  const storePath = resolveStorePath(context.storePath, {
    agentId: target.agentId,
    stateDir: context.stateDir,
  });
  const transcriptPath = resolveSessionTranscriptPathInDir(sessionId, dirname(storePath));
  Object.assign(item, {
    sessionId,
    key: target.key,
    agentId: target.agentId,
    storePath,
    transcriptPath,
  });

  const built = buildLegacyTranscript(session, {
    sessionId,
    cwd: context.workspaceDir,
    fallbackMs: mtimeMs,
  });
  if (!built.ok) {
    fail(item, "error", `cannot convert ${path}: ${built.reason}`);
    return { item };
  }
  item.messages = built.transcript.messageCount;
  const entry: SessionEntry = {
    sessionId,
    updatedAt: session.updatedAtMs ?? built.transcript.lastEntryMs,
    sessionFile: transcriptPath,
  };
  const displayName = session.metadata.display_name ?? session.metadata.displayName;
  if (typeof displayName === "string" && displayName.trim() !== "")
    entry.displayName = displayName.trim();
  let wantedLabel: string | undefined;
  if (session.metadata.label !== undefined) {
    const label = parseSessionLabel(session.metadata.label);
    if (label.ok) wantedLabel = label.label;
    else addNote(item, `metadata.label not kept (${label.message})`);
  }
  const check = checkSessionEntry(entry);
  if (!check.ok) {
    fail(item, "error", `the entry for ${path} does not validate: ${JSON.stringify(check.issues)}`);
    return { item };
  }
  const planned: PlannedItem = {
    item,
    session,
    target,
    sessionId,
    storePath,
    transcriptPath,
    transcript: built.transcript,
    entry,
  };
  if (wantedLabel !== undefined) planned.wantedLabel = wantedLabel;
  return { item, planned };
}

function entryTranscriptPath(entry: SessionEntry, fallback: string): string {
  const stored = typeof entry.sessionFile === "string" ? entry.sessionFile.trim() : "";
  if (stored === "") return fallback;
  return resolve(dirname(fallback), stored);
}

/**
 * A session migrated by an earlier run and then reset (`sessions reset`) holds a new session id
 * under the same key, and its migrated transcript was archived as `<sessionId>.jsonl.reset.<time>`
 * beside it. Only the exact key counts, so an unrelated session under a case twin stays a
 * conflict. Returns the newest such archive.
 */
async function findResetArchive(
  foundKey: string,
  planned: PlannedItem,
): Promise<string | undefined> {
  if (foundKey !== planned.target.key) return undefined;
  const archives = await listTranscriptArchives(planned.transcriptPath);
  return archives.find((archive) => archive.reason === "reset")?.path;
}

/**
 * Decides each item's action against the store as it is now: already migrated, a conflict with
 * an existing entry or transcript, a transcript to write, or one to reuse from an interrupted
 * run. Also settles labels: kept only when no other entry (stored or planned) has them.
 */
async function decideAgainstStore(
  store: Readonly<SessionStore>,
  items: PlannedItem[],
): Promise<void> {
  const labelsInUse = new Map<string, string>();
  for (const [key, entry] of Object.entries(store)) {
    if (typeof entry?.label === "string") labelsInUse.set(entry.label, key);
  }
  const idsInUse = new Map<string, string>();
  for (const [key, entry] of Object.entries(store)) {
    if (typeof entry?.sessionId === "string") idsInUse.set(entry.sessionId, key);
  }
  for (const planned of items) {
    const { item } = planned;
    const found = findStoreEntry(store, planned.target.key);
    if (found !== undefined) {
      if (found.entry.sessionId !== planned.sessionId) {
        const reset = await findResetArchive(found.key, planned);
        if (reset !== undefined) {
          fail(
            item,
            "skipped",
            `already present: migrated earlier and reset since (the migrated transcript is ${reset})`,
          );
          continue;
        }
        fail(
          item,
          "conflict",
          `key ${found.key} already holds session ${String(found.entry.sessionId)} in ${planned.storePath}; it was left as it is`,
        );
        continue;
      }
      const existingTranscript = entryTranscriptPath(found.entry, planned.transcriptPath);
      if (await pathExists(existingTranscript)) {
        fail(item, "skipped", "already migrated");
        continue;
      }
      if (existingTranscript !== planned.transcriptPath) {
        fail(
          item,
          "conflict",
          `entry ${found.key} points to ${existingTranscript}, which is missing; it was left as it is`,
        );
        continue;
      }
      // The entry is ours but its transcript is gone: writing it again overwrites nothing.
      planned.action = "transcript-only";
      addNote(item, "the entry existed without its transcript; the transcript was written again");
      continue;
    }
    const owner = idsInUse.get(planned.sessionId);
    if (owner !== undefined) {
      fail(
        item,
        "conflict",
        `session id ${planned.sessionId} is already used by ${owner} in ${planned.storePath}; it was left as it is`,
      );
      continue;
    }
    const existing = await readIfExists(planned.transcriptPath);
    if (existing === undefined) planned.action = "write";
    else if (existing === planned.transcript.text) {
      planned.action = "resume";
      addNote(item, "reused the transcript written by an interrupted run");
    } else {
      fail(
        item,
        "conflict",
        `transcript ${planned.transcriptPath} exists already and was not written by this migration; move it aside to migrate this session`,
      );
      continue;
    }
    if (planned.wantedLabel !== undefined) {
      const holder = labelsInUse.get(planned.wantedLabel);
      if (holder === undefined) {
        planned.entry.label = planned.wantedLabel;
        labelsInUse.set(planned.wantedLabel, planned.target.key);
      } else {
        addNote(item, `label ${JSON.stringify(planned.wantedLabel)} not set: ${holder} has it`);
      }
    }
    idsInUse.set(planned.sessionId, planned.target.key);
  }
}

async function takeBackup(
  sessionsDir: string,
  files: string[],
  now: () => number,
): Promise<string> {
  const base = join(sessionsDir, `backup-${formatArchiveTimestamp(now())}`);
  let dir = base;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await mkdir(dir);
      break;
    } catch (error) {
      if (errnoOf(error) !== "EEXIST" || attempt > 100) throw error;
      dir = `${base}-${attempt}`;
    }
  }
  const subdirs = new Set<string>();
  for (const file of files) {
    const source = join(sessionsDir, file);
    const target = join(dir, file);
    if (file.includes("/")) {
      await mkdir(dirname(target), { recursive: true });
      subdirs.add(dirname(target));
    }
    await copyFile(source, target, constants.COPYFILE_EXCL);
    const stats = await stat(source);
    await utimes(target, stats.atime, stats.mtime);
  }
  for (const subdir of subdirs) await fsyncDirectory(subdir);
  await fsyncDirectory(dir);
  await fsyncDirectory(sessionsDir);
  return dir;
}

/** Reads back what was written; returns the problems found (none when all is well). */
async function checkMigrated(
  planned: PlannedItem,
  store: Readonly<SessionStore>,
): Promise<string[]> {
  const problems: string[] = [];
  const text = await readIfExists(planned.transcriptPath);
  if (text === undefined) return [`transcript ${planned.transcriptPath} is missing`];
  const firstLine = text.slice(0, text.indexOf("\n"));
  try {
    if (!TranscriptHeaderSchema.safeParse(JSON.parse(firstLine)).success) {
      problems.push(`transcript ${planned.transcriptPath} has no valid header`);
    }
  } catch {
    problems.push(`transcript ${planned.transcriptPath} starts with a line that is not JSON`);
  }
  const stream = readTranscriptMessages(planned.transcriptPath);
  let messages = 0;
  for await (const _message of stream) messages += 1;
  if (stream.stats.malformedLines > 0) {
    problems.push(
      `transcript ${planned.transcriptPath} has ${stream.stats.malformedLines} malformed lines`,
    );
  }
  if (messages !== planned.transcript.messageCount) {
    problems.push(
      `transcript ${planned.transcriptPath} reads back ${messages} messages, expected ${planned.transcript.messageCount}`,
    );
  }
  const entry = store[planned.target.key];
  if (entry === undefined)
    problems.push(`entry ${planned.target.key} is missing from ${planned.storePath}`);
  else {
    if (entry.sessionId !== planned.sessionId) {
      problems.push(
        `entry ${planned.target.key} holds session ${entry.sessionId}, expected ${planned.sessionId}`,
      );
    }
    const check = checkSessionEntry(entry);
    if (!check.ok)
      problems.push(
        `entry ${planned.target.key} does not validate: ${JSON.stringify(check.issues)}`,
      );
  }
  return problems;
}

/**
 * Migrates a legacy workspace (`<workspace>/.sessions/<id>.json` + `session_map.json`) into the
 * session stores and v3 transcripts of a state dir.
 *
 * Keys come from `session_map.json` when it names the session (fixed words lower-cased; keys of
 * another agent go to that agent's store), else `agent:<agent>:legacy:<id>`. An id that cannot
 * be a session id (path characters, `:`, non-ASCII, …) gets `legacy-<16 hex of sha256(id)>`, and
 * the mapping is reported. Existing entries and transcripts are never overwritten (reported as
 * conflicts); legacy files are copied to `.sessions/backup-<time>/` before the first write; a
 * rerun migrates nothing new and reports the sessions as already migrated; a run interrupted
 * after writing a transcript is completed by the next one. A dry run writes nothing. Every
 * migrated session is read back and its entry validated before the report is returned.
 *
 * Throws `INVALID_PARAMS` when there is no `.sessions` folder or `session_map.json` is
 * unreadable; per-file failures are reported as items, and the other files go on.
 */
export async function migrateLegacyWorkspace(
  workspaceDir: string,
  options: MigrateLegacyWorkspaceOptions = {},
): Promise<MigrationReport> {
  const settings = {
    agentId: normalizeAgentId(
      options.agentId ??
        (options.config === undefined ? undefined : resolveDefaultAgentId(options.config)),
    ),
    stateDir: resolve(options.stateDir ?? resolveStateDir()),
    storePath: options.storePath ?? options.config?.session.store,
    dryRun: options.dryRun ?? false,
    backup: options.backup ?? true,
    onProgress: options.onProgress ?? (() => {}),
    now: options.now ?? Date.now,
  };
  const workspace = resolve(workspaceDir);
  const sessionsDir = await resolveLegacySessionsDir(workspace);
  const report: MigrationReport = {
    workspaceDir: workspace,
    sessionsDir,
    dryRun: settings.dryRun,
    found: 0,
    migrated: 0,
    skipped: 0,
    conflicts: 0,
    errors: 0,
    mappings: [],
    stores: [],
    transcripts: [],
    warnings: [],
    items: [],
  };
  const files = await listLegacyFiles(sessionsDir);
  report.found = files.length;
  const sessionMap = await readSessionMap(sessionsDir, settings.agentId, report.warnings);
  const mapFileExists = await pathExists(join(sessionsDir, LEGACY_SESSION_MAP_FILE));

  // 1. Read and convert every file; nothing is written yet.
  const planned: PlannedItem[] = [];
  for (const [index, file] of files.entries()) {
    settings.onProgress({ phase: "read", done: index, total: files.length, file });
    const result = await planFile(sessionsDir, file, {
      agentId: settings.agentId,
      stateDir: settings.stateDir,
      storePath: settings.storePath,
      workspaceDir: workspace,
      sessionMap,
    });
    report.items.push(result.item);
    if (result.planned !== undefined) planned.push(result.planned);
  }
  settings.onProgress({ phase: "read", done: files.length, total: files.length });
  const legacyIds = new Set(files.map((file) => file.slice(0, -".json".length)));
  for (const id of sessionMap.keys()) {
    if (!legacyIds.has(id)) {
      report.warnings.push(
        `${LEGACY_SESSION_MAP_FILE} names session ${JSON.stringify(id)}, which has no file`,
      );
    }
  }

  // 2. Two files may not claim one key or one session id of a store.
  const claimed = new Map<string, string>();
  const unique: PlannedItem[] = [];
  for (const item of planned) {
    const claims = [
      `${item.storePath}\nkey\n${item.target.key}`,
      `${item.storePath}\nid\n${item.sessionId}`,
    ];
    const rival = claims.map((claim) => claimed.get(claim)).find((value) => value !== undefined);
    if (rival !== undefined) {
      fail(
        item.item,
        "conflict",
        `${rival} claims the same key or session id; it was migrated instead`,
      );
      continue;
    }
    for (const claim of claims) claimed.set(claim, item.item.file);
    unique.push(item);
  }

  // 3. Decide against each store as it is now.
  const byStore = new Map<string, PlannedItem[]>();
  for (const item of unique) {
    const group = byStore.get(item.storePath);
    if (group === undefined) byStore.set(item.storePath, [item]);
    else group.push(item);
  }
  for (const [storePath, items] of byStore) {
    let store: Readonly<SessionStore>;
    try {
      store = await loadSessionStore(storePath, { skipCache: true });
    } catch (error) {
      for (const item of items) {
        fail(
          item.item,
          "error",
          `the store ${storePath} cannot be read (${describeError(error)}); repair it first`,
        );
      }
      continue;
    }
    await decideAgainstStore(store, items);
  }
  const toWrite = unique.filter(
    (item) => item.item.status === "migrated" && item.action !== undefined,
  );
  for (const item of unique) {
    if (item.sessionId !== item.item.legacyId && item.item.status !== "error") {
      report.mappings.push({
        file: item.item.file,
        legacyId: item.item.legacyId,
        sessionId: item.sessionId,
        key: item.target.key,
        agentId: item.target.agentId,
      });
    }
  }
  if (settings.dryRun || toWrite.length === 0) {
    report.stores = storesReceivingEntries(toWrite);
    report.transcripts = toWrite
      .filter((item) => item.action === "write" || item.action === "transcript-only")
      .map((item) => item.transcriptPath);
    if (settings.dryRun && settings.backup && toWrite.length > 0)
      report.backupDir = join(sessionsDir, `backup-${formatArchiveTimestamp(settings.now())}`);
    countStatuses(report);
    return report;
  }

  // 4. Back up the legacy files before the first write.
  if (settings.backup) {
    settings.onProgress({ phase: "backup", done: 0, total: 1 });
    const backupFiles = mapFileExists ? [...files, LEGACY_SESSION_MAP_FILE] : files;
    report.backupDir = await takeBackup(sessionsDir, backupFiles, settings.now);
    settings.onProgress({ phase: "backup", done: 1, total: 1 });
  }

  // 5. Transcripts first (temp file + link, never over an existing file), then the entries of
  //    each store in one locked update. A crash in between leaves transcripts the next run
  //    recognises byte for byte and completes.
  let written = 0;
  const createdNow = new Set<PlannedItem>();
  for (const [storePath, items] of byStore) {
    const pending = items.filter((item) => toWrite.includes(item));
    if (pending.length === 0) continue;
    await mkdir(dirname(storePath), { recursive: true });
    const ready: PlannedItem[] = [];
    for (const item of pending) {
      settings.onProgress({
        phase: "write",
        done: written,
        total: toWrite.length,
        file: item.item.file,
      });
      written += 1;
      try {
        // A crashed earlier run may have left `<transcript>.<pid>.<random>.tmp` behind.
        const removed = await removeOrphanedTempFiles(item.transcriptPath);
        if (removed.length > 0)
          addNote(item.item, `removed ${removed.length} temp file(s) left by an interrupted run`);
      } catch (error) {
        fail(
          item.item,
          "error",
          `cannot clean up beside ${item.transcriptPath}: ${describeError(error)}`,
        );
        continue;
      }
      if (item.action === "resume") {
        ready.push(item);
        continue;
      }
      try {
        const outcome = await createFileExclusively(item.transcriptPath, item.transcript.text);
        if (
          outcome === "exists" &&
          (await readIfExists(item.transcriptPath)) !== item.transcript.text
        ) {
          fail(
            item.item,
            "conflict",
            `transcript ${item.transcriptPath} appeared while migrating; it was left as it is`,
          );
          continue;
        }
        if (outcome === "created") createdNow.add(item);
        // The entry of a transcript-only item is in the store already.
        if (item.action !== "transcript-only") ready.push(item);
      } catch (error) {
        fail(item.item, "error", `cannot write ${item.transcriptPath}: ${describeError(error)}`);
      }
    }
    if (ready.length === 0) continue;
    const outcomes = await updateSessionStore(
      storePath,
      (draft) => {
        const results = new Map<PlannedItem, { status: MigrationItemStatus; reason?: string }>();
        for (const item of ready) {
          const found = findStoreEntry(draft, item.target.key);
          if (found !== undefined) {
            results.set(
              item,
              found.entry.sessionId === item.sessionId
                ? { status: "skipped", reason: "already migrated" }
                : {
                    status: "conflict",
                    reason: `key ${found.key} was taken by session ${String(found.entry.sessionId)} meanwhile`,
                  },
            );
            continue;
          }
          const twin = Object.entries(draft).find(
            ([, entry]) => entry?.sessionId === item.sessionId,
          );
          if (twin !== undefined) {
            results.set(item, {
              status: "conflict",
              reason: `session id ${item.sessionId} was taken by ${twin[0]} meanwhile`,
            });
            continue;
          }
          const entry = { ...item.entry };
          if (
            entry.label !== undefined &&
            Object.values(draft).some((other) => other?.label === entry.label)
          ) {
            delete entry.label;
          }
          draft[item.target.key] = entry;
          results.set(item, { status: "migrated" });
        }
        return results;
      },
      options.lock ?? {},
    ).catch((error: unknown) => {
      for (const item of ready)
        fail(item.item, "error", `cannot update ${storePath}: ${describeError(error)}`);
      return undefined;
    });
    if (outcomes === undefined) {
      // The entries were not added: a transcript created for them now would be an orphan. The
      // next run writes it again.
      for (const item of ready) if (createdNow.has(item)) await unlink(item.transcriptPath);
      continue;
    }
    for (const [item, outcome] of outcomes) {
      if (outcome.status === "migrated") continue;
      fail(item.item, outcome.status === "skipped" ? "skipped" : "conflict", outcome.reason ?? "");
      // A transcript this run created for an entry that could not be added would be an orphan.
      if (outcome.status === "conflict" && createdNow.has(item)) {
        await unlink(item.transcriptPath);
      }
    }
  }
  settings.onProgress({ phase: "write", done: toWrite.length, total: toWrite.length });

  // 6. Read back every migrated session.
  const migratedItems = toWrite.filter((item) => item.item.status === "migrated");
  const stores = new Map<string, Readonly<SessionStore>>();
  for (const [index, item] of migratedItems.entries()) {
    settings.onProgress({
      phase: "check",
      done: index,
      total: migratedItems.length,
      file: item.item.file,
    });
    let store = stores.get(item.storePath);
    if (store === undefined) {
      store = await loadSessionStore(item.storePath, { skipCache: true });
      stores.set(item.storePath, store);
    }
    const problems = await checkMigrated(item, store);
    if (problems.length > 0) fail(item.item, "error", `self-check failed: ${problems.join("; ")}`);
  }
  settings.onProgress({ phase: "check", done: migratedItems.length, total: migratedItems.length });
  const migratedNow = toWrite.filter((item) => item.item.status === "migrated");
  report.stores = storesReceivingEntries(migratedNow);
  report.transcripts = migratedNow
    .filter((item) => createdNow.has(item))
    .map((item) => item.transcriptPath);
  countStatuses(report);
  return report;
}

/** The stores that get (or got) entries from `items`; rewriting a lost transcript writes no store. */
function storesReceivingEntries(items: readonly PlannedItem[]): string[] {
  return [
    ...new Set(
      items.filter((item) => item.action !== "transcript-only").map((item) => item.storePath),
    ),
  ];
}
