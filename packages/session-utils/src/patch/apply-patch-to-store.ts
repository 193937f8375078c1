import type { SessionEntry } from "@clawkeep/schema";
import type { SessionsConfig } from "../config/sessions-config.ts";
import { findStoreEntry, normalizeSessionKeyCase } from "../keys/key-case.ts";
import {
  type ApplySessionsPatchResult,
  applySessionsPatch,
  type SessionsPatch,
} from "./apply-patch.ts";

export interface ApplySessionsPatchToStoreParams {
  cfg: SessionsConfig;
  /**
   * The store (or a store draft inside an update) to patch in place. Written only when the patch
   * is accepted.
   */
  store: Record<string, SessionEntry>;
  /**
   * A read-only view of the same store state used for the lookups (the entry, its twins, label
   * uniqueness), for stores whose drafts copy every entry that is read.
   * @default store
   */
  snapshot?: Readonly<Record<string, SessionEntry>>;
  /**
   * Where the session lives: its canonical key and every spelling it may be stored under (see
   * `resolveGatewaySessionStoreTarget`).
   */
  target: { canonicalKey: string; storeKeys: readonly string[]; mainKey?: string };
  patch: SessionsPatch;
  /**
   * The keys that may carry `label`, each with its current entry (see `indexStoreLabels`): the
   * label check then looks only at them instead of every entry of `snapshot`. It must list every
   * key that carries the label now (those of the committed state and those written earlier in
   * the same batch); a listed key whose entry no longer carries the label is skipped.
   * @default every entry of `snapshot`
   */
  labelHolders?: (label: string) => Iterable<readonly [string, SessionEntry | undefined]>;
  /** Current time in epoch ms. @default Date.now */
  now?: () => number;
  /** Session id for a patch that creates its session. @default crypto.randomUUID */
  randomUUID?: () => string;
}

export type ApplySessionsPatchToStoreResult =
  | (Extract<ApplySessionsPatchResult, { ok: true }> & {
      /** The canonical key the entry is now stored under. */
      key: string;
      /** The key the entry was found under when it was not the canonical key (now removed). */
      migratedFrom?: string;
    })
  | Extract<ApplySessionsPatchResult, { ok: false }>;

/**
 * Patches one session of a store: finds its entry under the target's keys (any case of the fixed
 * words; the newest twin), checks label uniqueness against every other session of the store,
 * applies {@link applySessionsPatch}, and on success stores the result under the canonical key,
 * removing the alias key it was found under. A rejected patch leaves `store` untouched, so the
 * caller has nothing to write.
 */
export function applySessionsPatchToStore(
  params: ApplySessionsPatchToStoreParams,
): ApplySessionsPatchToStoreResult {
  const { cfg, store, target } = params;
  const view = params.snapshot ?? store;
  const mainKey = target.mainKey ?? cfg.session.mainKey;
  // A stored value that is not an object is no session, but it may be someone's data: a patch
  // refuses to overwrite it rather than replacing it with a new session.
  for (const key of [target.canonicalKey, ...target.storeKeys]) {
    const value: unknown = Object.hasOwn(view, key) ? view[key] : undefined;
    if (value !== undefined && (typeof value !== "object" || value === null)) {
      return {
        ok: false,
        error: { code: "INVALID_PARAMS", message: `invalid session entry for ${key}` },
      };
    }
  }
  const found = findStoreEntry(view, target, { mainKey });
  const ownKeys = new Set(
    [target.canonicalKey, ...target.storeKeys].map((key) =>
      normalizeSessionKeyCase(key, { mainKey }),
    ),
  );
  const isLabelTaken = (label: string): boolean => {
    const holders = params.labelHolders?.(label) ?? Object.entries(view);
    for (const [key, entry] of holders) {
      if (typeof entry !== "object" || entry === null || entry.label !== label) continue;
      if (key === found?.key || key === target.canonicalKey) continue;
      // Another spelling of this session (a twin, its bare key) is the same session, not a rival.
      if (ownKeys.has(normalizeSessionKeyCase(key, { mainKey }))) continue;
      return true;
    }
    return false;
  };
  const context: Parameters<typeof applySessionsPatch>[2] = {
    cfg,
    key: target.canonicalKey,
    isLabelTaken,
  };
  if (params.now !== undefined) context.now = params.now;
  if (params.randomUUID !== undefined) context.randomUUID = params.randomUUID;
  const result = applySessionsPatch(found?.entry, params.patch, context);
  if (!result.ok) return result;
  if (found !== undefined && found.key !== target.canonicalKey) {
    delete store[found.key];
    store[target.canonicalKey] = result.entry;
    return { ...result, key: target.canonicalKey, migratedFrom: found.key };
  }
  store[target.canonicalKey] = result.entry;
  return { ...result, key: target.canonicalKey };
}
