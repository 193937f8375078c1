import {
  SESSIONS_CHANGED_EVENT,
  SESSIONS_METHOD_PARAMS,
  type SessionsChangedEvent,
  SessionsError,
} from "@clawkeep/schema";
import type { z } from "zod";
import { DEFAULT_MAX_RESPONSE_BYTES } from "./list-response-cap.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { MethodRegistry } from "./method-registry.ts";
import { createSessionChangeFeed } from "./session-change-feed.ts";
import { createSessionMethodContext, type SessionStateOptions } from "./session-method-context.ts";
import {
  DEFAULT_STOP_SESSION_TIMEOUT_MS,
  resolveSessionRuntimeHooks,
  type SessionRuntimeHooks,
} from "./session-runtime-hooks.ts";
import { listSessions, previewSessions, resolveSession } from "./sessions-read-handlers.ts";
import {
  compactSession,
  deleteSession,
  patchSession,
  resetSession,
  type SessionWriteDependencies,
} from "./sessions-write-handlers.ts";

/** The subscription topic of `sessions.changed`, as kept in a connection's subscriptions. */
export const SESSIONS_TOPIC = "sessions";

export interface SessionMethodsOptions extends SessionStateOptions {
  /** How reset and delete reach the agent runtime. @default nothing ever runs */
  hooks?: Partial<SessionRuntimeHooks>;
  /**
   * How long reset and delete wait for an aborted run before answering `UNAVAILABLE`
   * `Session <key> is still active; try again in a moment.`; the request is held meanwhile.
   * @default 15000
   */
  activeWaitMs?: number;
  /**
   * Largest serialised `sessions.list` payload. A listing that would be larger returns fewer
   * rows, `nextOffset` to continue from and a `RESPONSE_TRUNCATED` warning; each row is
   * serialised once more to measure it.
   * @default 4194304 (4 MiB)
   */
  maxResponseBytes?: number;
  /**
   * Bytes a preview reads back from the end of one transcript at most; a preview that stops
   * there before it has `limit` items says `truncated: true`.
   * @default 67108864 (64 MiB, the transcripts package's cap)
   */
  previewScanBytes?: number;
  /**
   * Delivers a `sessions.changed` payload to the connections subscribed to
   * {@link SESSIONS_TOPIC}; the gateway sends it without `seq`.
   * @default drops it
   */
  publishChange?: (event: SessionsChangedEvent) => void;
  /** Receives failures that the client does not see (a store that cannot be watched). @default silent */
  logger?: Logger;
}

/** One agent store of the combined view, as a health report shows it. */
export interface SessionStoreSummary {
  agentId: string;
  storePath: string;
  /** Sessions in the store (0 when the file does not exist); `null` when it cannot be read. */
  sessions: number | null;
  /** Why the store cannot be read: a `SessionsError` code such as `STORE_CORRUPT`. */
  error?: string;
}

/** The registered session methods, for the gateway to report on and stop with itself. */
export interface SessionMethods {
  /**
   * Every agent store of the combined view with its number of sessions, from the stores' cached
   * snapshots (a store is read only when it has changed or was never read). For health reports.
   */
  describeStores(): Promise<SessionStoreSummary[]>;
  /** Stops watching the stores; requests in progress finish. */
  close(): void;
}

// Counted once per snapshot: a store that has not changed costs no pass over its keys.
const sessionCounts = new WeakMap<object, number>();

function countSessions(snapshot: object): number {
  let count = sessionCounts.get(snapshot);
  if (count === undefined) {
    // A value that is not an object (`null`, a number) is not a session.
    count = 0;
    for (const value of Object.values(snapshot)) {
      if (typeof value === "object" && value !== null) count += 1;
    }
    sessionCounts.set(snapshot, count);
  }
  return count;
}

/** The longest session key a request may name; longer keys are refused before any store is read. */
export const MAX_SESSION_KEY_LENGTH = 512;

/**
 * `schema` with its `key` (and each of `keys`) limited to {@link MAX_SESSION_KEY_LENGTH}
 * characters, refused in the usual wording: `at /key: must NOT have more than 512 characters`.
 */
function withKeyLimit<Schema extends z.ZodType>(schema: Schema): Schema {
  return schema.superRefine((params, context) => {
    const tooLong = (value: unknown, path: (string | number)[]) => {
      if (typeof value === "string" && value.length > MAX_SESSION_KEY_LENGTH) {
        context.addIssue({
          code: "too_big",
          origin: "string",
          maximum: MAX_SESSION_KEY_LENGTH,
          inclusive: true,
          path,
          input: value,
        });
      }
    };
    if (typeof params !== "object" || params === null) return;
    const { key, keys } = params as { key?: unknown; keys?: unknown };
    tooLong(key, ["key"]);
    if (Array.isArray(keys)) {
      for (const [index, item] of keys.entries()) tooLong(item, ["keys", index]);
    }
  }) as unknown as Schema;
}

/**
 * Registers openclaw's session methods (`sessions.list`, `.preview`, `.patch`, `.reset`,
 * `.delete`, `.compact`, all advertised), `sessions.resolve` (advertised, read scope) and
 * `sessions.subscribe` / `sessions.unsubscribe`, which turn `sessions.changed` on and off for
 * the calling connection. Reads need `operator.read`; writes need `operator.admin`, as openclaw
 * answers `missing scope: operator.admin`.
 */
export function registerSessionMethods(
  registry: MethodRegistry,
  options: SessionMethodsOptions,
): SessionMethods {
  const context = createSessionMethodContext(options);
  const publish = options.publishChange ?? (() => {});
  const feed = createSessionChangeFeed({ publish, logger: options.logger ?? silentLogger });
  const maxResponseBytes = Math.max(1024, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  const writes: SessionWriteDependencies = {
    context,
    feed,
    hooks: resolveSessionRuntimeHooks(options.hooks),
    activeWaitMs: Math.max(0, options.activeWaitMs ?? DEFAULT_STOP_SESSION_TIMEOUT_MS),
  };

  registry.declareEvent(SESSIONS_CHANGED_EVENT);
  registry.register({
    name: "sessions.list",
    scope: "read",
    paramsSchema: SESSIONS_METHOD_PARAMS["sessions.list"],
    handler: (params) => listSessions(context, params, maxResponseBytes),
  });
  registry.register({
    name: "sessions.preview",
    scope: "read",
    paramsSchema: withKeyLimit(SESSIONS_METHOD_PARAMS["sessions.preview"]),
    handler: (params, methodContext) =>
      previewSessions(context, params, methodContext.logger, options.previewScanBytes),
  });
  registry.register({
    name: "sessions.patch",
    scope: "admin",
    paramsSchema: withKeyLimit(SESSIONS_METHOD_PARAMS["sessions.patch"]),
    handler: (params) => patchSession(writes, params),
  });
  registry.register({
    name: "sessions.reset",
    scope: "admin",
    paramsSchema: withKeyLimit(SESSIONS_METHOD_PARAMS["sessions.reset"]),
    handler: (params, methodContext) => resetSession(writes, params, methodContext.logger),
  });
  registry.register({
    name: "sessions.delete",
    scope: "admin",
    paramsSchema: withKeyLimit(SESSIONS_METHOD_PARAMS["sessions.delete"]),
    handler: (params, methodContext) => deleteSession(writes, params, methodContext.logger),
  });
  registry.register({
    name: "sessions.compact",
    scope: "admin",
    paramsSchema: withKeyLimit(SESSIONS_METHOD_PARAMS["sessions.compact"]),
    handler: (params) => compactSession(writes, params),
  });
  registry.register({
    name: "sessions.resolve",
    scope: "read",
    paramsSchema: withKeyLimit(SESSIONS_METHOD_PARAMS["sessions.resolve"]),
    handler: (params) => resolveSession(context, params),
  });
  registry.register({
    name: "sessions.subscribe",
    scope: "read",
    paramsSchema: SESSIONS_METHOD_PARAMS["sessions.subscribe"],
    handler: async (_params, methodContext) => {
      const cfg = await context.config();
      const sources = await context.sources(cfg);
      // Every store is watched, with its state read, before the subscription counts: a change
      // that lands after this answer is reported.
      await Promise.all(
        sources.map((source) =>
          feed.watch({
            ...source,
            mainKey: cfg.session.mainKey,
            backend: context.store(source.storePath),
          }),
        ),
      );
      methodContext.subscriptions.add(SESSIONS_TOPIC);
      return { ok: true, subscribed: true };
    },
  });
  registry.register({
    name: "sessions.unsubscribe",
    scope: "read",
    paramsSchema: SESSIONS_METHOD_PARAMS["sessions.unsubscribe"],
    handler: (_params, methodContext) => {
      methodContext.subscriptions.delete(SESSIONS_TOPIC);
      return { ok: true, subscribed: false };
    },
  });

  return {
    async describeStores() {
      const cfg = await context.config();
      const sources = await context.sources(cfg);
      return await Promise.all(
        sources.map(async ({ agentId, storePath }): Promise<SessionStoreSummary> => {
          try {
            const snapshot = await context.store(storePath).snapshot();
            return { agentId, storePath, sessions: countSessions(snapshot) };
          } catch (error) {
            // One unreadable store must not hide the others; its code says why.
            if (!SessionsError.isInstance(error)) throw error;
            return { agentId, storePath, sessions: null, error: error.code };
          }
        }),
      );
    },
    close() {
      feed.close();
    },
  };
}
