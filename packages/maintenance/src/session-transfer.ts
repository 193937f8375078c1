import { createHash, randomUUID } from "node:crypto";
import { lstat, mkdir, readFile, unlink } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import {
  checkSessionEntry,
  formatValidationIssues,
  normalizeAgentId,
  parseAgentSessionKey,
  type SessionEntry,
  type SessionStore,
  SessionsError,
} from "@clawkeep/schema";
import {
  createDefaultSessionsConfig,
  findStoreEntry,
  resolveGatewaySessionStoreTarget,
  type SessionsConfig,
} from "@clawkeep/session-utils";
import {
  createFileExclusively,
  loadSessionStore,
  removeOrphanedTempFiles,
  resolveStorePath,
  updateSessionStore,
} from "@clawkeep/store";
import { findTranscriptFile, resolveSessionTranscriptPathInDir } from "@clawkeep/transcripts";
import { z } from "zod";
import type { LockSettings } from "./lock-settings.ts";

/** `format` of an exported session file. */
export const SESSION_EXPORT_FORMAT = "clawkeep.session";
/** `version` of the export format this package writes and reads. */
export const SESSION_EXPORT_VERSION = 1;

/**
 * One session as one portable JSON document: its store entry (without `sessionFile`, a path
 * that means nothing on another machine) and its transcript, byte for byte.
 */
export const SessionExportSchema = z.object({
  format: z.literal(SESSION_EXPORT_FORMAT),
  version: z.literal(SESSION_EXPORT_VERSION),
  exportedAt: z.string(),
  agentId: z.string().min(1),
  key: z.string().min(1),
  entry: z.looseObject({ sessionId: z.string().min(1), updatedAt: z.number() }),
  transcript: z
    .object({
      /** The transcript's file name in its sessions dir (`<sessionId>.jsonl`). */
      fileName: z.string().min(1),
      /** The JSONL text as it was on disk. */
      text: z.string(),
      /** SHA-256 (hex) of `text` as UTF-8, to notice a damaged file. */
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .nullable(),
});
export type SessionExport = z.infer<typeof SessionExportSchema>;

/** Where a session is read from or written to. */
export interface SessionTransferOptions {
  /** The state dir holding `agents/<id>/sessions`. */
  stateDir: string;
  /** Sessions config (agents, main key, `session.store`). @default every default */
  config?: SessionsConfig;
}

export interface ExportSessionOptions extends SessionTransferOptions {
  /** Clock for `exportedAt`. @default Date.now */
  now?: () => number;
}

export interface ExportedSession {
  document: SessionExport;
  storePath: string;
  /** The transcript that was read, or null when the session has none. */
  transcriptPath: string | null;
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * Exports one session (found by key as the gateway finds it: aliases and letter case of the
 * fixed words resolved) as a {@link SessionExport}. Throws `SESSION_NOT_FOUND` when the key has
 * no entry.
 */
export async function exportSession(
  key: string,
  options: ExportSessionOptions,
): Promise<ExportedSession> {
  const config = options.config ?? createDefaultSessionsConfig();
  const stateDir = resolve(options.stateDir);
  const target = resolveGatewaySessionStoreTarget({ cfg: config, key, stateDir });
  const store = await loadSessionStore(target.storePath, { skipCache: true });
  const found = findStoreEntry(store, target);
  if (found === undefined) {
    throw new SessionsError(
      "SESSION_NOT_FOUND",
      `No session found: ${key} (in ${target.storePath})`,
      {
        details: { key, path: target.storePath },
      },
    );
  }
  const { sessionFile, ...entry } = found.entry;
  const transcriptPath = await findTranscriptFile({
    sessionId: found.entry.sessionId,
    storePath: target.storePath,
    agentId: target.agentId,
    ...(typeof sessionFile === "string" && { sessionFile }),
  });
  let transcript: SessionExport["transcript"] = null;
  if (transcriptPath !== null) {
    const text = await readFile(transcriptPath, "utf8");
    transcript = { fileName: basename(transcriptPath), text, sha256: sha256(text) };
  }
  const document: SessionExport = {
    format: SESSION_EXPORT_FORMAT,
    version: SESSION_EXPORT_VERSION,
    exportedAt: new Date((options.now ?? Date.now)()).toISOString(),
    agentId: target.agentId,
    key: found.key,
    entry: entry as SessionExport["entry"],
    transcript,
  };
  return { document, storePath: target.storePath, transcriptPath };
}

export interface ImportSessionOptions extends SessionTransferOptions {
  /**
   * When the key, the session id or the transcript file exists already: give the session a
   * fresh key and/or session id (reported in `mapping`) instead of refusing.
   * @default false
   */
  rename?: boolean;
  /** Import into this agent instead of the one the session was exported from. */
  agentId?: string;
  /** How the store lock is taken. @default the store's defaults */
  lock?: LockSettings;
}

export interface ImportedSession {
  agentId: string;
  storePath: string;
  key: string;
  sessionId: string;
  transcriptPath: string | null;
  /** Set when `rename` assigned a fresh key or session id. */
  mapping?: {
    key: { from: string; to: string };
    sessionId: { from: string; to: string };
  };
  /** What was adjusted on the way in (a label another session has, for example). */
  notes: string[];
}

/**
 * Checks a parsed export file: its shape, the transcript's checksum and lines (see
 * `checkTranscriptText`), and that an `agent:<id>:…` key names the same agent as `agentId`.
 * Throws `INVALID_PARAMS` naming what is wrong.
 */
export function parseSessionExport(value: unknown): SessionExport {
  const result = SessionExportSchema.safeParse(value);
  if (!result.success) {
    throw new SessionsError(
      "INVALID_PARAMS",
      `not a clawkeep session export: ${formatValidationIssues(result.error.issues, { input: value })}`,
    );
  }
  const document = result.data;
  if (
    document.transcript !== null &&
    sha256(document.transcript.text) !== document.transcript.sha256
  ) {
    throw new SessionsError(
      "INVALID_PARAMS",
      "the transcript in the export does not match its checksum: the file was altered or cut off",
    );
  }
  if (document.transcript !== null) {
    checkTranscriptText(document.transcript.text, document.entry.sessionId);
  }
  keyAgentOf(document);
  return document;
}

function transcriptProblem(line: number, problem: string): SessionsError {
  return new SessionsError(
    "INVALID_PARAMS",
    `the transcript in the export is not valid: line ${line}: ${problem}`,
    { details: { line } },
  );
}

/**
 * Checks an exported transcript as openclaw would need it to be: every line a JSON object (blank
 * lines aside), at most one `session` header and only as the first line, naming `sessionId`, and
 * every `parentId` null or the `id` of an earlier entry. Throws `INVALID_PARAMS` naming the first
 * line (1-based) that is not.
 */
function checkTranscriptText(text: string, sessionId: string): void {
  const ids = new Set<string>();
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] as string;
    const number = index + 1;
    if (line.trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw transcriptProblem(number, "not JSON (a torn or hand-edited line)");
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      throw transcriptProblem(number, "not a JSON object");
    }
    const entry = record as Record<string, unknown>;
    if (entry.type === "session") {
      if (index !== 0) throw transcriptProblem(number, "a session header after the first line");
      if (entry.id !== sessionId) {
        throw transcriptProblem(
          number,
          `the header names session ${JSON.stringify(entry.id)}, the entry ${JSON.stringify(sessionId)}`,
        );
      }
      continue;
    }
    const parentId = entry.parentId;
    if (parentId !== undefined && parentId !== null) {
      if (typeof parentId !== "string" || !ids.has(parentId)) {
        throw transcriptProblem(
          number,
          `parentId ${JSON.stringify(parentId)} is not the id of an earlier entry`,
        );
      }
    }
    if (typeof entry.id === "string") ids.add(entry.id);
  }
}

/**
 * The agent a document's key belongs to (`agent:<id>:…`), checked against its `agentId`; the
 * `agentId` itself for a key of another shape. Throws `INVALID_PARAMS` when they disagree: the
 * entry would land in a store where its key is never looked up.
 */
function keyAgentOf(document: SessionExport): string {
  const agentId = normalizeAgentId(document.agentId);
  const parsed = parseAgentSessionKey(document.key);
  if (parsed === null) return agentId;
  const keyAgent = normalizeAgentId(parsed.agentId);
  if (keyAgent !== agentId) {
    throw new SessionsError(
      "INVALID_PARAMS",
      `the export's key ${document.key} belongs to agent ${keyAgent}, but its agentId is ${agentId}; fix one of them`,
      { details: { key: document.key, agentId: document.agentId } },
    );
  }
  return keyAgent;
}

function retargetKey(key: string, fromAgent: string, toAgent: string): string {
  if (fromAgent === toAgent) return key;
  const parsed = parseAgentSessionKey(key);
  if (parsed === null || normalizeAgentId(parsed.agentId) !== fromAgent) return key;
  return `agent:${toAgent}:${parsed.rest}`;
}

function freshKey(key: string, agentId: string, sessionId: string): string {
  const suffix = `imported-${sessionId.replaceAll("-", "").slice(0, 8)}`;
  return parseAgentSessionKey(key) === null ? `agent:${agentId}:${suffix}` : `${key}:${suffix}`;
}

/** The header (first line) names the session id; the other lines stay byte for byte. */
function renameTranscriptHeader(text: string, sessionId: string): string {
  const end = text.indexOf("\n");
  const first = end === -1 ? text : text.slice(0, end);
  try {
    const header: unknown = JSON.parse(first);
    if (
      typeof header === "object" &&
      header !== null &&
      (header as { type?: unknown }).type === "session"
    ) {
      const renamed = JSON.stringify({ ...(header as object), id: sessionId });
      return end === -1 ? renamed : `${renamed}${text.slice(end)}`;
    }
  } catch {
    // No header (a compacted transcript): nothing names the session id.
  }
  return text;
}

/**
 * True when `path` is a regular file (not a symlink) holding exactly `text`: the transcript an
 * earlier run of the same import created before it was killed.
 */
async function holdsExactly(path: string, text: string): Promise<boolean> {
  try {
    const stats = await lstat(path);
    if (!stats.isFile()) return false;
    const expected = Buffer.from(text, "utf8");
    if (stats.size !== expected.length) return false;
    return (await readFile(path)).equals(expected);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new SessionsError("STORE_IO", `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { path, errno: (error as NodeJS.ErrnoException).code },
    });
  }
}

interface Conflicts {
  key: string | undefined;
  sessionId: string | undefined;
  transcript: boolean;
}

async function findConflicts(
  store: Readonly<SessionStore>,
  key: string,
  sessionId: string,
  transcriptPath: string | null,
  mainKey: string,
): Promise<Conflicts> {
  const found = findStoreEntry(store, key, { mainKey });
  const owner = Object.entries(store).find(([, entry]) => entry?.sessionId === sessionId)?.[0];
  return {
    key: found?.key,
    sessionId: owner,
    transcript: transcriptPath !== null && (await findTranscriptFile(transcriptPath)) !== null,
  };
}

function describeConflicts(
  conflicts: Conflicts,
  sessionId: string,
  transcriptPath: string | null,
): string[] {
  const parts: string[] = [];
  if (conflicts.key !== undefined) parts.push(`key ${conflicts.key} exists`);
  if (conflicts.sessionId !== undefined)
    parts.push(`session id ${sessionId} is used by ${conflicts.sessionId}`);
  if (conflicts.transcript) parts.push(`transcript ${transcriptPath} exists`);
  return parts;
}

/**
 * Imports one session from a {@link SessionExport} (already parsed JSON): the transcript is
 * created first (never over an existing file), then the entry is added under the store lock.
 * Refuses with `ALREADY_EXISTS` when the key, the session id or the transcript exists, unless
 * `rename` is set, which assigns a fresh key and/or session id and reports the mapping. A label
 * another session of the store has is dropped (see `notes`). The transcript is checked first
 * (see {@link parseSessionExport}), and the target agent is the one the key names. Crash-safe: temp
 * files of dead writers beside the transcript are removed, and a transcript byte-identical to the
 * one imported with no entry for its key or session id (a run killed before the entry was
 * written) is kept and completed rather than refused.
 */
export async function importSession(
  value: unknown,
  options: ImportSessionOptions,
): Promise<ImportedSession> {
  const document = parseSessionExport(value);
  const config = options.config ?? createDefaultSessionsConfig();
  const stateDir = resolve(options.stateDir);
  const fromAgent = keyAgentOf(document);
  const agentId = normalizeAgentId(options.agentId ?? document.agentId);
  const storePath = resolveStorePath(config.session.store, { agentId, stateDir });
  const sessionsDir = dirname(storePath);
  const originalKey = retargetKey(document.key, fromAgent, agentId);
  const originalId = document.entry.sessionId;
  const notes: string[] = [];

  const transcriptPathFor = (sessionId: string): string | null =>
    document.transcript === null ? null : resolveSessionTranscriptPathInDir(sessionId, sessionsDir);
  let key = originalKey;
  let sessionId = originalId;
  let transcriptPath = transcriptPathFor(sessionId);

  const store = await loadSessionStore(storePath, { skipCache: true });
  const conflicts = await findConflicts(
    store,
    key,
    sessionId,
    transcriptPath,
    config.session.mainKey,
  );
  // An earlier run killed between creating the transcript and writing the entry left the very
  // same transcript and no entry: this run completes it instead of refusing.
  const resuming =
    conflicts.transcript &&
    conflicts.key === undefined &&
    conflicts.sessionId === undefined &&
    transcriptPath !== null &&
    document.transcript !== null &&
    (await holdsExactly(transcriptPath, document.transcript.text));
  if (resuming) {
    conflicts.transcript = false;
    notes.push(`completed an interrupted import: ${transcriptPath} was already written`);
  }
  const problems = describeConflicts(conflicts, sessionId, transcriptPath);
  if (problems.length > 0) {
    if (options.rename !== true) {
      throw new SessionsError(
        "ALREADY_EXISTS",
        `cannot import ${document.key} into ${storePath}: ${problems.join("; ")}; import with rename to give it a fresh key and session id`,
        { details: { key: originalKey, sessionId: originalId, path: storePath } },
      );
    }
    if (conflicts.sessionId !== undefined || conflicts.transcript) {
      sessionId = randomUUID();
      transcriptPath = transcriptPathFor(sessionId);
    }
    if (conflicts.key !== undefined) key = freshKey(originalKey, agentId, sessionId);
  }

  const entry: SessionEntry = { ...(document.entry as SessionEntry), sessionId };
  if (transcriptPath !== null) entry.sessionFile = transcriptPath;
  const check = checkSessionEntry(entry);
  if (!check.ok) {
    throw new SessionsError(
      "INVALID_PARAMS",
      `the exported entry of ${document.key} does not validate: ${check.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")}`,
    );
  }

  await mkdir(sessionsDir, { recursive: true });
  // A killed earlier run may have left `<transcript>.<pid>.<random>.tmp` behind.
  if (transcriptPath !== null) await removeOrphanedTempFiles(transcriptPath);
  // Only a transcript this run created is removed when the entry cannot be written.
  const created = transcriptPath !== null && !resuming;
  if (created && transcriptPath !== null && document.transcript !== null) {
    const text =
      sessionId === originalId
        ? document.transcript.text
        : renameTranscriptHeader(document.transcript.text, sessionId);
    if ((await createFileExclusively(transcriptPath, text)) === "exists") {
      throw new SessionsError(
        "ALREADY_EXISTS",
        `transcript ${transcriptPath} appeared meanwhile; nothing was imported`,
        {
          details: { path: transcriptPath },
        },
      );
    }
  }
  let late: Conflicts | undefined;
  try {
    await updateSessionStore(
      storePath,
      async (draft) => {
        // A conflict is returned, not thrown, so that the store releases its lock before the
        // call settles.
        const found = await findConflicts(draft, key, sessionId, null, config.session.mainKey);
        if (found.key !== undefined || found.sessionId !== undefined) {
          late = found;
          return;
        }
        const written = { ...entry };
        if (typeof written.label === "string") {
          const holder = Object.entries(draft).find(
            ([, other]) => other?.label === written.label,
          )?.[0];
          if (holder !== undefined) {
            notes.push(`label ${JSON.stringify(written.label)} not kept: ${holder} has it`);
            delete written.label;
          }
        }
        draft[key] = written;
      },
      options.lock ?? {},
    );
  } catch (error) {
    // The transcript was created for this import alone; without its entry it would be an orphan.
    if (created && transcriptPath !== null) await unlink(transcriptPath);
    throw error;
  }
  if (late !== undefined) {
    if (created && transcriptPath !== null) await unlink(transcriptPath);
    throw new SessionsError(
      "ALREADY_EXISTS",
      `cannot import ${document.key} into ${storePath}: ${describeConflicts(late, sessionId, null).join("; ")} (written meanwhile)`,
      { details: { key, sessionId, path: storePath } },
    );
  }

  const result: ImportedSession = { agentId, storePath, key, sessionId, transcriptPath, notes };
  if (key !== originalKey || sessionId !== originalId) {
    result.mapping = {
      key: { from: originalKey, to: key },
      sessionId: { from: originalId, to: sessionId },
    };
  }
  return result;
}
