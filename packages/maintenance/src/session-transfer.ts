import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, unlink } from "node:fs/promises";
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

/** Checks a parsed export file; throws `INVALID_PARAMS` naming what is wrong. */
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
  return document;
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
 * another session of the store has is dropped (see `notes`).
 */
export async function importSession(
  value: unknown,
  options: ImportSessionOptions,
): Promise<ImportedSession> {
  const document = parseSessionExport(value);
  const config = options.config ?? createDefaultSessionsConfig();
  const stateDir = resolve(options.stateDir);
  const fromAgent = normalizeAgentId(document.agentId);
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
  if (transcriptPath !== null && document.transcript !== null) {
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
    if (transcriptPath !== null) await unlink(transcriptPath);
    throw error;
  }
  if (late !== undefined) {
    if (transcriptPath !== null) await unlink(transcriptPath);
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
