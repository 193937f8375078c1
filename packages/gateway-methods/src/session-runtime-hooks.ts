import { SessionsError } from "@clawkeep/schema";

/** The session a runtime hook is asked about. */
export interface SessionRuntimeTarget {
  /** The canonical session key (`agent:main:main`). */
  key: string;
  /** The entry's current `sessionId`, when it has one. */
  sessionId?: string;
  /** The agent whose store holds the entry. */
  agentId?: string;
  /**
   * Other spellings the session goes by: the key as the caller sent it and every store key that
   * names the same session (an alias such as `main`, a twin differing in case). Queues and runs
   * keyed by any of them belong to this session.
   */
  aliases?: readonly string[];
}

/**
 * How the session methods reach the agent runtime that embeds the gateway: before a session is
 * reset or deleted, its queued messages are dropped, its subagents stopped and its run aborted,
 * and the method waits for the run to end. clawkeep itself runs no agents, so every default says
 * "nothing runs"; an embedding runtime passes its own. Hooks may be synchronous or async.
 */
export interface SessionRuntimeHooks {
  /** True while a run for the session is in progress. @default () => false */
  isSessionActive(target: SessionRuntimeTarget): boolean | Promise<boolean>;
  /** Drops messages queued for the session. @default does nothing */
  clearQueues(target: SessionRuntimeTarget): void | Promise<void>;
  /** Stops subagents the session spawned. @default does nothing */
  stopSubagents(target: SessionRuntimeTarget): void | Promise<void>;
  /** Asks the session's run to stop; returns before it has stopped. @default does nothing */
  abortSession(target: SessionRuntimeTarget): void | Promise<void>;
  /**
   * Resolves `true` once no run is in progress, or `false` when `timeoutMs` passed first.
   * @default () => true
   */
  waitForIdle(target: SessionRuntimeTarget, timeoutMs: number): boolean | Promise<boolean>;
}

/** The hooks of a gateway that runs no agents: nothing is ever active. */
export const IDLE_SESSION_RUNTIME: SessionRuntimeHooks = Object.freeze({
  isSessionActive: () => false,
  clearQueues: () => {},
  stopSubagents: () => {},
  abortSession: () => {},
  waitForIdle: () => true,
});

/** Completes `hooks` with the {@link IDLE_SESSION_RUNTIME} defaults, in a new object. */
export function resolveSessionRuntimeHooks(
  hooks: Partial<SessionRuntimeHooks> = {},
): SessionRuntimeHooks {
  return {
    isSessionActive: hooks.isSessionActive ?? IDLE_SESSION_RUNTIME.isSessionActive,
    clearQueues: hooks.clearQueues ?? IDLE_SESSION_RUNTIME.clearQueues,
    stopSubagents: hooks.stopSubagents ?? IDLE_SESSION_RUNTIME.stopSubagents,
    abortSession: hooks.abortSession ?? IDLE_SESSION_RUNTIME.abortSession,
    waitForIdle: hooks.waitForIdle ?? IDLE_SESSION_RUNTIME.waitForIdle,
  };
}

export interface StopSessionRuntimeOptions {
  /**
   * How long to wait for an aborted run to end. The request that asked (reset, delete) is held
   * for that long.
   * @default 15000
   */
  timeoutMs?: number;
}

/** How long {@link stopSessionRuntime} waits by default, as openclaw does before a delete. */
export const DEFAULT_STOP_SESSION_TIMEOUT_MS = 15_000;

/**
 * Quiets a session before it is reset or deleted: clears its queues, stops its subagents, and
 * when a run is active aborts it and waits up to `timeoutMs`. Throws `SESSION_ACTIVE`
 * (`Session <key> is still active; try again in a moment.`, as openclaw words it) when the run
 * outlives the wait, so the caller leaves the entry alone.
 */
export async function stopSessionRuntime(
  hooks: SessionRuntimeHooks,
  target: SessionRuntimeTarget,
  options: StopSessionRuntimeOptions = {},
): Promise<void> {
  const timeoutMs = Math.max(0, options.timeoutMs ?? DEFAULT_STOP_SESSION_TIMEOUT_MS);
  await hooks.clearQueues(target);
  await hooks.stopSubagents(target);
  if (!(await hooks.isSessionActive(target))) return;
  await hooks.abortSession(target);
  if (await hooks.waitForIdle(target, timeoutMs)) return;
  throw new SessionsError(
    "SESSION_ACTIVE",
    `Session ${target.key} is still active; try again in a moment.`,
    { details: { key: target.key, timeoutMs } },
  );
}
