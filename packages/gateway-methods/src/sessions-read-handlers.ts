import {
  PREVIEW_MAX_KEYS,
  type SessionPreview,
  SessionsError,
  type SessionsListParams,
  type SessionsListResult,
  type SessionsPreviewParams,
  type SessionsPreviewResult,
  type SessionsResolveParams,
  type SessionsResolveResult,
} from "@clawkeep/schema";
import {
  findStoreEntry,
  listCombinedSessions,
  mapWithConcurrency,
  resolveSessionKeyFromResolveParams,
} from "@clawkeep/session-utils";
import type { SessionStoreSnapshot } from "@clawkeep/store";
import {
  DEFAULT_MAX_SCAN_BYTES,
  readTranscriptPreview,
  type TranscriptSource,
} from "@clawkeep/transcripts";
import { countRowsThatFit, truncateListResult } from "./list-response-cap.ts";
import type { Logger } from "./logger.ts";
import { type SessionMethodContext, transcriptLocatorFor } from "./session-method-context.ts";

/** Pages larger than this that ask for titles or previews are sized before any transcript is read. */
const PREFLIGHT_ROW_THRESHOLD = 200;
/** Room kept per row for a derived title and a last-message preview while sizing a page. */
const TRANSCRIPT_FIELDS_RESERVE_BYTES = 256;
/** Transcripts read at once by one `sessions.preview`. */
const PREVIEW_CONCURRENCY = 8;

/**
 * `sessions.list` over every agent's store, cut to `maxBytes` when the rows would not fit in one
 * frame. A large page that asks for titles or previews is sized first without them, so that no
 * transcript is read for a row that will not be sent.
 */
export async function listSessions(
  context: SessionMethodContext,
  params: SessionsListParams,
  maxBytes: number,
): Promise<SessionsListResult> {
  const cfg = await context.config();
  const offset = params.offset ?? 0;
  const run = (opts: SessionsListParams) =>
    listCombinedSessions({
      cfg,
      opts,
      stateDir: context.stateDir,
      env: context.env,
      loadStore: (storePath) => context.store(storePath).snapshot(),
    });
  const wantsTranscripts =
    params.includeDerivedTitles === true || params.includeLastMessage === true;
  let opts = params;
  let requested: number | undefined;
  if (wantsTranscripts && (params.limit === undefined || params.limit > PREFLIGHT_ROW_THRESHOLD)) {
    const { includeDerivedTitles: _titles, includeLastMessage: _last, ...bare } = params;
    const sized = await run(bare);
    requested = sized.sessions.length;
    const fitting = countRowsThatFit(
      sized,
      maxBytes,
      sized.sessions.length * TRANSCRIPT_FIELDS_RESERVE_BYTES,
    );
    opts = { ...params, limit: Math.max(1, fitting) };
  }
  const result = await run(opts);
  const keep = countRowsThatFit(result, maxBytes);
  return truncateListResult(result, keep, offset, maxBytes, requested);
}

/** A preview item without its key: what one transcript read answers. */
type PreviewOutcome = Omit<SessionPreview, "key">;

/**
 * `sessions.preview`: the newest messages of up to 64 sessions, each key echoed as sent. Keys that
 * name the same transcript share one read. The whole request reads at most `maxScanBytes` (64 MiB
 * by default) from transcript ends: each distinct transcript may read an equal share of what is
 * left when its read starts, and gives back what it did not use. A transcript whose share is used
 * up before anything was found is answered `empty` with `truncated: true`.
 */
export async function previewSessions(
  context: SessionMethodContext,
  params: SessionsPreviewParams,
  logger: Logger,
  maxScanBytes: number | undefined,
): Promise<SessionsPreviewResult> {
  const keys = params.keys
    .map((key) => key.trim())
    .filter((key) => key !== "")
    .slice(0, PREVIEW_MAX_KEYS);
  if (keys.length === 0) return { ts: Date.now(), previews: [] };
  const cfg = await context.config();
  const snapshots = new Map<string, Promise<SessionStoreSnapshot>>();
  const snapshotOf = (storePath: string) => {
    let snapshot = snapshots.get(storePath);
    if (snapshot === undefined) {
      snapshot = context.store(storePath).snapshot();
      snapshots.set(storePath, snapshot);
    }
    return snapshot;
  };

  // First every key is resolved to its transcript (store reads only), so that the scan budget
  // can be split among the distinct transcripts.
  type Read = { locator: TranscriptSource; outcome?: Promise<PreviewOutcome> };
  const reads = new Map<string, Read>();
  const resolved = await mapWithConcurrency(
    keys,
    PREVIEW_CONCURRENCY,
    async (key): Promise<PreviewOutcome | Read> => {
      try {
        const target = context.target(cfg, key);
        const found = findStoreEntry(await snapshotOf(target.storePath), target);
        const sessionId = found?.entry.sessionId?.trim() ?? "";
        if (found === undefined || sessionId === "") return { status: "missing", items: [] };
        const sessionFile = found.entry.sessionFile;
        const identity = JSON.stringify([target.storePath, target.agentId, sessionId, sessionFile]);
        let read = reads.get(identity);
        if (read === undefined) {
          read = { locator: transcriptLocatorFor(context, target, { sessionId, sessionFile }) };
          reads.set(identity, read);
        }
        return read;
      } catch (error) {
        logger.warn("session preview failed", {
          key,
          error: error instanceof Error ? error.message : String(error),
        });
        return { status: "error", items: [] };
      }
    },
  );

  let remaining = Math.max(0, Math.floor(maxScanBytes ?? DEFAULT_MAX_SCAN_BYTES));
  let unstarted = reads.size;
  const readPreview = async (read: Read): Promise<PreviewOutcome> => {
    const allowance = Math.floor(remaining / Math.max(1, unstarted));
    unstarted -= 1;
    if (allowance === 0) return { status: "empty", items: [], truncated: true };
    remaining -= allowance;
    let scanned = allowance;
    try {
      const preview = await readTranscriptPreview(read.locator, {
        maxItems: params.limit ?? 12,
        maxChars: params.maxChars ?? 240,
        maxScanBytes: allowance,
      });
      scanned = Math.min(allowance, preview.bytesScanned);
      const outcome: PreviewOutcome = {
        status: preview.items.length > 0 ? "ok" : "empty",
        items: preview.items,
      };
      if (preview.truncated) outcome.truncated = true;
      return outcome;
    } finally {
      remaining += allowance - scanned;
    }
  };
  const previews = await mapWithConcurrency(
    keys.map((key, index) => ({ key, item: resolved[index] as PreviewOutcome | Read })),
    PREVIEW_CONCURRENCY,
    async ({ key, item }): Promise<SessionPreview> => {
      if (!("locator" in item)) return { key, ...item };
      item.outcome ??= readPreview(item);
      try {
        const outcome = await item.outcome;
        return { key, ...outcome, items: [...outcome.items] };
      } catch (error) {
        logger.warn("session preview failed", {
          key,
          error: error instanceof Error ? error.message : String(error),
        });
        return { key, status: "error", items: [] };
      }
    },
  );
  return { ts: Date.now(), previews };
}

/** `sessions.resolve`: the canonical key for exactly one of key, sessionId or label. */
export async function resolveSession(
  context: SessionMethodContext,
  params: SessionsResolveParams,
): Promise<SessionsResolveResult> {
  const cfg = await context.config();
  const result = await resolveSessionKeyFromResolveParams({
    cfg,
    params,
    stateDir: context.stateDir,
    env: context.env,
    loadStore: (storePath) => context.store(storePath).snapshot(),
  });
  if (!result.ok) throw new SessionsError(result.error.code, result.error.message);
  return { ok: true, key: result.key };
}
