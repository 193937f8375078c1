import { lstat, realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { isValidAgentId, SessionsError, validateSessionId } from "@clawkeep/schema";
import {
  type AgentPathOptions,
  resolveAgentSessionsDir,
  resolveHomeDir,
  resolveStateDir,
} from "@clawkeep/store";

/** Where a transcript lives: the state dir and environment to resolve agent dirs against. */
export interface TranscriptDirOptions extends AgentPathOptions {
  /** The agent whose sessions dir is meant. @default "main" */
  agentId?: string;
}

/**
 * The file name of a transcript in `sessionsDir`: `<id>.jsonl`, or `<id>-topic-<topic>.jsonl` for
 * a topic thread (a string topic is URI-encoded, a number written in decimal). Throws `INVALID_ID`
 * for an id that could name a path, so the result never leaves `sessionsDir`.
 */
export function resolveSessionTranscriptPathInDir(
  sessionId: string,
  sessionsDir: string,
  topicId?: string | number,
): string {
  const id = validateSessionId(sessionId);
  const suffix =
    topicId === undefined
      ? ""
      : `-topic-${typeof topicId === "number" ? String(topicId) : encodeURIComponent(topicId)}`;
  return join(resolve(sessionsDir), `${id}${suffix}.jsonl`);
}

/** `<stateDir>/agents/<agentId>/sessions`, the directory of an agent's transcripts. */
export function resolveSessionTranscriptsDir(options: TranscriptDirOptions = {}): string {
  return resolveAgentSessionsDir(options.agentId, options);
}

/** The transcript path of a session in an agent's sessions dir (see {@link resolveSessionTranscriptPathInDir}). */
export function resolveSessionTranscriptPath(
  sessionId: string,
  agentId?: string,
  topicId?: string | number,
  options: AgentPathOptions = {},
): string {
  return resolveSessionTranscriptPathInDir(
    sessionId,
    resolveAgentSessionsDir(agentId, options),
    topicId,
  );
}

/**
 * The `PATH_ESCAPE` error for a path that leads out of its sessions dir: openclaw's message with
 * the path appended, and the path (and the real path, when it is known) in `details`.
 */
export function pathEscapeError(
  path: string,
  sessionsDir: string,
  realPath?: string | null,
): SessionsError {
  return new SessionsError(
    "PATH_ESCAPE",
    `Session file path must be within sessions directory: ${path}`,
    { details: { path, sessionsDir, ...(realPath !== undefined && { realPath }) } },
  );
}

/** True when `child` is `parent` or below it (both absolute and normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/** True when `child` is strictly below `parent`. */
export function isStrictlyInside(parent: string, child: string): boolean {
  return child !== parent && isInside(parent, child);
}

/**
 * True for a transcript file name: `<stem>.jsonl` with a non-empty stem (topic transcripts
 * included). A stored `sessionFile` naming anything else (`sessions.json`, a `.lock`, an archive)
 * would let an append write into that file.
 */
function isTranscriptFileName(name: string): boolean {
  return name.length > ".jsonl".length && name.endsWith(".jsonl");
}

/**
 * The state dirs whose `agents/<id>/sessions` dirs a stored path may point into: the one a sessions
 * dir of the shape `<stateDir>/agents/<id>/sessions` sits in, and the configured one.
 */
function candidateStateDirs(sessionsDir: string, options: AgentPathOptions): string[] {
  const dirs: string[] = [];
  const agentDir = dirname(sessionsDir);
  if (basename(sessionsDir) === "sessions" && basename(dirname(agentDir)) === "agents") {
    dirs.push(dirname(dirname(agentDir)));
  }
  const configured = options.stateDir === undefined ? resolveStateDir(options) : options.stateDir;
  const resolved = resolve(configured);
  if (!dirs.includes(resolved)) dirs.push(resolved);
  return dirs;
}

/** The `agents/<id>/sessions` dir that holds `path`, when there is one under `stateDir`. */
function agentSessionsDirOf(path: string, stateDir: string): string | undefined {
  const agentsDir = join(stateDir, "agents");
  if (!isStrictlyInside(agentsDir, path)) return undefined;
  const [agentId, sessions] = relative(agentsDir, path).split(sep);
  if (agentId === undefined || !isValidAgentId(agentId) || sessions !== "sessions")
    return undefined;
  const dir = join(agentsDir, agentId, "sessions");
  return isStrictlyInside(dir, path) ? dir : undefined;
}

/** Options of {@link resolvePathWithinSessionsDir}. */
export interface SessionsDirPathOptions extends AgentPathOptions {}

/** A stored path resolved, and the sessions dir it was found in. */
export interface ContainedPath {
  path: string;
  /** `sessionsDir`, or the other agent's sessions dir an absolute path pointed into. */
  sessionsDir: string;
}

/**
 * Resolves a stored `sessionFile` against a sessions dir. A relative path must stay below the dir;
 * an absolute path must be below it too, or below another agent's `<stateDir>/agents/<id>/sessions`
 * (entries of non-default agents store such paths). Anything else throws `PATH_ESCAPE`
 * (`Session file path must be within sessions directory: <path>`); a blank path throws
 * `PATH_ESCAPE` (`Session file path must not be empty`), and so does a file name that is not
 * `<name>.jsonl` (`Session file must be a .jsonl transcript: <path>`), so a stored path can never
 * name `sessions.json`, a lock or an archive. This is a lexical check; readers and writers also
 * check symlinks (see {@link assertRealPathInside}).
 */
export function resolveContainedSessionPath(
  sessionsDir: string,
  candidate: string,
  options: SessionsDirPathOptions = {},
): ContainedPath {
  const trimmed = candidate.trim();
  if (trimmed === "") {
    throw new SessionsError("PATH_ESCAPE", "Session file path must not be empty", {
      details: { path: candidate, sessionsDir },
    });
  }
  const dir = resolve(sessionsDir);
  const path = resolve(dir, trimmed);
  let contained: ContainedPath | undefined;
  if (isStrictlyInside(dir, path)) contained = { path, sessionsDir: dir };
  else if (isAbsolute(trimmed)) {
    for (const stateDir of candidateStateDirs(dir, options)) {
      const other = agentSessionsDirOf(path, stateDir);
      if (other !== undefined) {
        contained = { path, sessionsDir: other };
        break;
      }
    }
  }
  if (contained === undefined) throw pathEscapeError(candidate, dir);
  if (!isTranscriptFileName(basename(path))) {
    throw new SessionsError(
      "PATH_ESCAPE",
      `Session file must be a .jsonl transcript: ${candidate}`,
      {
        details: { path: candidate, sessionsDir: dir },
      },
    );
  }
  return contained;
}

/** {@link resolveContainedSessionPath}, returning the path only. */
export function resolvePathWithinSessionsDir(
  sessionsDir: string,
  candidate: string,
  options: SessionsDirPathOptions = {},
): string {
  return resolveContainedSessionPath(sessionsDir, candidate, options).path;
}

/** Options of {@link resolveSessionFilePath}. */
export interface SessionFilePathOptions extends AgentPathOptions {
  /** The sessions dir to resolve in. @default the agent's sessions dir */
  sessionsDir?: string;
  /** The agent whose sessions dir is used when `sessionsDir` is not given. @default "main" */
  agentId?: string;
}

/**
 * The transcript path of a session entry: its stored `sessionFile` resolved inside the sessions
 * dir (see {@link resolveContainedSessionPath}), or `<sessionsDir>/<sessionId>.jsonl` when it has
 * none. Throws `INVALID_ID` for a bad session id and `PATH_ESCAPE` for a path outside.
 */
export function resolveSessionFilePath(
  sessionId: string,
  entry?: { sessionFile?: string | null | undefined } | null,
  options: SessionFilePathOptions = {},
): string {
  const sessionsDir =
    options.sessionsDir === undefined
      ? resolveAgentSessionsDir(options.agentId, options)
      : resolve(options.sessionsDir);
  const id = validateSessionId(sessionId);
  const stored = entry?.sessionFile?.trim();
  if (stored === undefined || stored === "")
    return resolveSessionTranscriptPathInDir(id, sessionsDir);
  return resolvePathWithinSessionsDir(sessionsDir, stored, options);
}

/** Where a session's transcript may be: the openclaw lookup inputs. */
export interface TranscriptLocator extends AgentPathOptions {
  sessionId: string;
  /** The `sessions.json` the entry came from; its directory is the sessions dir. */
  storePath?: string | undefined;
  /** The entry's stored `sessionFile`. */
  sessionFile?: string | undefined;
  /** The agent the session belongs to. */
  agentId?: string | undefined;
}

/**
 * Every place a session's transcript may be, most likely first, without duplicates: with a store
 * path, the stored `sessionFile` inside the store's dir, then `<store dir>/<id>.jsonl`; otherwise the
 * stored `sessionFile` inside the agent's dir; then `<agent dir>/<id>.jsonl` when an agent is given;
 * then the legacy `<home>/.openclaw/sessions/<id>.jsonl`. A stored path that would leave its dir is
 * skipped. Throws `INVALID_ID` for a bad session id.
 */
export function resolveSessionTranscriptCandidates(locator: TranscriptLocator): string[] {
  return resolveTranscriptCandidateLocations(locator).map((candidate) => candidate.path);
}

/**
 * {@link resolveSessionTranscriptCandidates}, each with the sessions dir it must really be inside:
 * the store's or agent's dir, the other agent's dir a stored absolute path points into, or the
 * legacy dir.
 */
export function resolveTranscriptCandidateLocations(locator: TranscriptLocator): ContainedPath[] {
  const id = validateSessionId(locator.sessionId);
  const candidates: ContainedPath[] = [];
  const add = (candidate: ContainedPath) => {
    if (!candidates.some((known) => known.path === candidate.path)) candidates.push(candidate);
  };
  const addInDir = (dir: string) =>
    add({ path: resolveSessionTranscriptPathInDir(id, dir), sessionsDir: resolve(dir) });
  const tryStored = (dir: string) => {
    const stored = locator.sessionFile?.trim();
    if (stored === undefined || stored === "") return;
    try {
      add(resolveContainedSessionPath(dir, stored, locator));
    } catch (error) {
      if (!SessionsError.hasCode(error, "PATH_ESCAPE")) throw error;
    }
  };
  if (locator.storePath !== undefined && locator.storePath.trim() !== "") {
    const storeDir = dirname(resolve(locator.storePath));
    tryStored(storeDir);
    addInDir(storeDir);
  } else {
    tryStored(resolveAgentSessionsDir(locator.agentId, locator));
  }
  if (locator.agentId !== undefined) {
    addInDir(resolveAgentSessionsDir(locator.agentId, locator));
  }
  addInDir(join(resolveHomeDir(locator), ".openclaw", "sessions"));
  return candidates;
}

/**
 * Throws `PATH_ESCAPE` unless the real location of `path` (its parent dir with every symlink
 * resolved, and the file itself when it is a symlink) is inside the real `root`. Writers call this
 * before taking the lock and again right before opening, so a symlink planted in a sessions dir
 * cannot redirect a write outside; the file they open is then checked once more (readers check
 * the file they opened the same way).
 * Parent dirs that do not exist yet are judged by their nearest existing ancestor, so the check
 * can run before they are created. `root` must exist.
 */
export async function assertRealPathInside(path: string, root: string): Promise<void> {
  const realRoot = await realpath(root);
  const realParent = await realpathOfNearestAncestor(dirname(resolve(path)));
  let realTarget: string | undefined = join(realParent, basename(path));
  try {
    if ((await lstat(path)).isSymbolicLink()) realTarget = await realTargetOf(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
  }
  if (
    realTarget === undefined ||
    !isInside(realRoot, realParent) ||
    !isStrictlyInside(realRoot, realTarget)
  ) {
    throw pathEscapeError(path, root, realTarget ?? null);
  }
}

/** The real path of `dir`, or of its nearest existing ancestor joined with the missing rest. */
async function realpathOfNearestAncestor(dir: string): Promise<string> {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    try {
      return join(await realpath(current), ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(current);
      if ((code !== "ENOENT" && code !== "ENOTDIR") || parent === current) throw error;
      missing.push(basename(current));
      current = parent;
    }
  }
}

/** The real path a symlink points to, or undefined when it dangles (opening it would create the target). */
async function realTargetOf(link: string): Promise<string | undefined> {
  try {
    return await realpath(link);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
