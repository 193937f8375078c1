import {
  type GatewaySessionRow,
  type SessionEntry,
  SessionsError,
  type SessionsListParams,
  type SessionsListResult,
  type SessionsListWarning,
} from "@clawkeep/schema";
import { type Env, resolveStorePath } from "@clawkeep/store";
import {
  readFirstUserMessageFromTranscript,
  readLastMessagePreviewFromTranscript,
  type TranscriptLocator,
} from "@clawkeep/transcripts";
import {
  resolveDefaultAgentId,
  resolveDefaultContextTokens,
  resolveDefaultModel,
} from "../config/agents.ts";
import type { SessionsConfig } from "../config/sessions-config.ts";
import { deriveSessionTitle } from "../titles.ts";
import { getEntryFacts } from "./entry-facts.ts";
import { mapWithConcurrency } from "./map-with-concurrency.ts";
import { forEachMatchingSession } from "./select-sessions.ts";
import { buildGatewaySessionRow } from "./session-row.ts";

/** Reads the transcript bits a listing shows; replaceable for other transcript backends. */
export interface ListTranscriptReaders {
  readFirstUserMessage(locator: TranscriptLocator): Promise<string | null>;
  readLastMessagePreview(locator: TranscriptLocator): Promise<string | null>;
}

/** Bytes read from the end of a transcript for a row's last-message preview. */
export const LIST_PREVIEW_SCAN_BYTES = 64 * 1024;
/** Transcripts read at once while deriving titles and previews for a page. */
const TRANSCRIPT_READ_CONCURRENCY = 8;

const defaultReaders: ListTranscriptReaders = {
  readFirstUserMessage: (locator) => readFirstUserMessageFromTranscript(locator),
  readLastMessagePreview: (locator) =>
    readLastMessagePreviewFromTranscript(locator, {
      maxScanBytes: LIST_PREVIEW_SCAN_BYTES,
      chunkBytes: LIST_PREVIEW_SCAN_BYTES,
    }),
};

/** Filters, paging and row options of a listing: `sessions.list`'s params. */
export type ListSessionsOptions = SessionsListParams;

function isSingleStorePath(storePath: string): boolean {
  return storePath !== "(multiple)" && !storePath.includes("{agentId}");
}

async function readSafely(read: () => Promise<string | null>): Promise<string | null> {
  try {
    return await read();
  } catch (error) {
    // A row whose transcript cannot be read (an id that names no safe path, a file-system error
    // such as EACCES) is still listed, untitled; anything else is a bug and surfaces.
    const isExpected =
      SessionsError.isInstance(error) ||
      (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string");
    if (isExpected) return null;
    throw error;
  }
}

export interface ListSessionsFromStoreParams {
  cfg: SessionsConfig;
  /** The store's path, its `{agentId}` template, or `(multiple)`; reported as `path`. */
  storePath: string;
  /** The sessions to list, keyed by canonical key (one agent's store or the combined view). */
  store: Readonly<Record<string, SessionEntry>>;
  /** Filters, paging and derived fields. @default {} */
  opts?: ListSessionsOptions;
  /** Problems met while building `store` (skipped agent stores), reported as `warnings`. @default [] */
  warnings?: readonly SessionsListWarning[];
  /** Current time in epoch ms (for `ts` and `activeMinutes`). @default Date.now */
  now?: () => number;
  /** State dir for transcript lookups. @default resolved from `env` by `@clawkeep/store` */
  stateDir?: string;
  /** Environment for path resolution. @default process.env */
  env?: Env;
  /** Transcript readers for derived titles and previews. @default the `@clawkeep/transcripts` readers */
  readers?: ListTranscriptReaders;
}

/**
 * Lists sessions as `sessions.list` does: drops cron runs (and `global`/`unknown` unless asked),
 * applies the agent, spawnedBy, label, search and activeMinutes filters, sorts by `updatedAt`
 * (newest first) then key, and returns the page `[offset, offset + limit)` with `total` and
 * `nextOffset` (null on the last page). Titles and last-message previews are read only for the
 * returned rows, one bounded transcript read each.
 */
export async function listSessionsFromStore(
  params: ListSessionsFromStoreParams,
): Promise<SessionsListResult> {
  const { cfg, store, storePath } = params;
  const opts = params.opts ?? {};
  const now = (params.now ?? Date.now)();
  const offset =
    typeof opts.offset === "number" && Number.isFinite(opts.offset)
      ? Math.max(0, Math.floor(opts.offset))
      : 0;
  const limit =
    typeof opts.limit === "number" && Number.isFinite(opts.limit)
      ? Math.max(1, Math.floor(opts.limit))
      : Number.POSITIVE_INFINITY;
  // Count every match for `total`, but keep only the page.
  const page: { key: string; entry: SessionEntry }[] = [];
  let total = 0;
  forEachMatchingSession(store, opts, now, (key, entry) => {
    if (total >= offset && total - offset < limit) page.push({ key, entry });
    total += 1;
  });
  const defaultModel = resolveDefaultModel(cfg);
  const readers = params.readers ?? defaultReaders;
  const defaultAgentId = resolveDefaultAgentId(cfg);
  const wantTitles = opts.includeDerivedTitles === true;
  const wantPreview = opts.includeLastMessage === true;

  const locatorFor = (key: string, entry: SessionEntry, sessionId: string): TranscriptLocator => {
    const agentId = getEntryFacts(key, entry).agentId ?? defaultAgentId;
    const pathOptions: { agentId: string; stateDir?: string; env?: Env } = { agentId };
    if (params.stateDir !== undefined) pathOptions.stateDir = params.stateDir;
    if (params.env !== undefined) pathOptions.env = params.env;
    const locator: TranscriptLocator = {
      sessionId,
      agentId,
      storePath: isSingleStorePath(storePath)
        ? storePath
        : resolveStorePath(cfg.session.store, pathOptions),
      sessionFile: entry.sessionFile,
    };
    if (params.stateDir !== undefined) locator.stateDir = params.stateDir;
    if (params.env !== undefined) locator.env = params.env;
    return locator;
  };

  const sessions = await mapWithConcurrency(
    page,
    wantTitles || wantPreview ? TRANSCRIPT_READ_CONCURRENCY : page.length || 1,
    async ({ key, entry }): Promise<GatewaySessionRow> => {
      const sessionId = typeof entry.sessionId === "string" ? entry.sessionId.trim() : "";
      if (sessionId === "" || (!wantTitles && !wantPreview)) {
        return buildGatewaySessionRow(key, entry, defaultModel);
      }
      const locator = locatorFor(key, entry, sessionId);
      const [firstUserMessage, lastMessagePreview] = await Promise.all([
        wantTitles ? readSafely(() => readers.readFirstUserMessage(locator)) : null,
        wantPreview ? readSafely(() => readers.readLastMessagePreview(locator)) : null,
      ]);
      return buildGatewaySessionRow(key, entry, defaultModel, {
        derivedTitle: wantTitles ? deriveSessionTitle(entry, firstUserMessage) : undefined,
        lastMessagePreview: lastMessagePreview ?? undefined,
      });
    },
  );

  const end = offset + sessions.length;
  const result: SessionsListResult = {
    ts: now,
    path: storePath,
    count: sessions.length,
    defaults: {
      modelProvider: defaultModel.provider,
      model: defaultModel.model,
      contextTokens: resolveDefaultContextTokens(cfg),
    },
    sessions,
    total,
    nextOffset: end < total ? end : null,
  };
  if (params.warnings !== undefined && params.warnings.length > 0) {
    result.warnings = [...params.warnings];
  }
  return result;
}
