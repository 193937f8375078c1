import { AsyncLocalStorage } from "node:async_hooks";
import type { SessionEntry, SessionStore } from "@clawkeep/schema";
import { SessionsError } from "@clawkeep/schema";
import type { FileLockOptions, HeldFileLock } from "./file-lock.ts";
import type {
  RemovedSessionEntry,
  SessionMaintenancePolicy,
  SessionMaintenanceWarning,
} from "./maintenance.ts";
import { applyMaintenance, DEFAULT_ROTATE_BYTES } from "./maintenance.ts";
import type { SessionStoreSnapshot } from "./session-store-backend.ts";
import type { StoreState } from "./store-draft.ts";
import { createDraft, REMOVED, WorkingStore } from "./store-draft.ts";

/**
 * Exclusive access to a store for one batch. `base` may be this process's cached state, still
 * being compared with the file while the batch runs on it: the batch stages its write at once and
 * commits it only after `verify()` has proven the base current. When the file turned out to have
 * changed, the batch runs again on the state `verify()` returns, and the staged write is dropped.
 */
export interface StoreSession {
  readonly base: StoreState;
  /**
   * Resolves to `undefined` when the latest base is the current state of the store, else to the
   * current state (read from the file, now the base). Throws when the store cannot be read
   * (`STORE_CORRUPT`, `STORE_IO`).
   */
  verify(): Promise<StoreState | undefined>;
  /**
   * Prepares the batch's result for commit without making it visible (for a file: written and
   * flushed to a temp file). A result that changes nothing stages nothing.
   */
  stage(working: WorkingStore, rotateBytes: number | undefined): Promise<StagedCommit>;
  release(): Promise<void>;
}

/** A staged batch result: commit it (once its base is verified) or discard it. */
export interface StagedCommit {
  /** Makes the result visible and current; resolves to the committed state. */
  commit(): Promise<StoreState>;
  discard(): Promise<void>;
}

/** Where a queue's batches run: the file backend (a lock and a file) or the memory backend. */
export interface StoreHost {
  /** A name for messages: the store path, or `memory`. */
  readonly label: string;
  open(options: FileLockOptions): Promise<StoreSession>;
  exclusive<T>(fn: (lock: HeldFileLock) => T | Promise<T>, options: FileLockOptions): Promise<T>;
}

interface BaseJob {
  lockOptions: FileLockOptions;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface UpdateJob extends BaseJob {
  kind: "update";
  maintenance: SessionMaintenancePolicy | undefined;
  /**
   * Runs the job against the working store; returns a function giving its final result from
   * the state committed by the batch.
   */
  apply(working: WorkingStore): Promise<(committed: StoreState) => unknown>;
}

interface ExclusiveJob extends BaseJob {
  kind: "exclusive";
  run(lock: HeldFileLock): unknown;
}

type Job = UpdateJob | ExclusiveJob;

/** What one job did in one run of a batch. */
type JobOutcome =
  | {
      ok: true;
      /** Gives the job's result from the state the batch committed. */
      result: (committed: StoreState) => unknown;
      removed: RemovedSessionEntry[];
      warning: SessionMaintenanceWarning | undefined;
    }
  | { ok: false; error: unknown };

/** One run of a batch's jobs on a base: the working store and each job's outcome, in order. */
interface BatchRun {
  working: WorkingStore;
  outcomes: JobOutcome[];
  rotateBytes: number | undefined;
}

// The stores whose mutator or lock callback is running in the current async context. An update
// of the same store from there would wait for itself forever.
const activeQueues = new AsyncLocalStorage<ReadonlySet<StoreUpdateQueue>>();

function sameLockOptions(left: FileLockOptions, right: FileLockOptions): boolean {
  return left.timeoutMs === right.timeoutMs && left.staleMs === right.staleMs;
}

/** Options for one queued update. */
export interface QueuedUpdateOptions {
  lock: FileLockOptions;
  maintenance: SessionMaintenancePolicy | undefined;
}

/**
 * The per-store write queue. Updates queued while the lock is being taken join one batch: one
 * lock, one check of the file, the mutators run one after another on a shared working copy (each
 * on its own draft, so a failing one rolls back alone), then one write. When the check finds the
 * store changed, the batch runs again on the fresh state; every job's outcome comes from the run
 * whose base was proven current, and every job's promise settles once, after the batch.
 */
export class StoreUpdateQueue {
  readonly host: StoreHost;
  private readonly pending: Job[] = [];
  private draining = false;

  constructor(host: StoreHost) {
    this.host = host;
  }

  /** True while a batch or a lock callback of this queue runs. */
  get busy(): boolean {
    return this.draining;
  }

  private assertNotReentrant(): void {
    if (activeQueues.getStore()?.has(this)) {
      throw new SessionsError(
        "UNAVAILABLE",
        `session store ${this.host.label} was updated from inside its own mutator or lock callback; this would wait for itself`,
        { details: { store: this.host.label } },
      );
    }
  }

  private inContext<T>(fn: () => T): T {
    const active = new Set(activeQueues.getStore());
    active.add(this);
    return activeQueues.run(active, fn);
  }

  private enqueue<T>(
    job: Omit<UpdateJob, "resolve" | "reject"> | Omit<ExclusiveJob, "resolve" | "reject">,
  ): Promise<T> {
    this.assertNotReentrant();
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ ...job, resolve: resolve as (value: unknown) => void, reject } as Job);
      if (!this.draining) {
        this.draining = true;
        // Started on the next microtask so that updates issued in the same tick share a batch;
        // drain() settles every job itself and never rejects.
        queueMicrotask(() => void this.drain());
      }
    });
  }

  /** Queues a mutator; resolves to its result once written. */
  update<T>(
    mutator: (draft: SessionStore) => T | Promise<T>,
    options: QueuedUpdateOptions,
  ): Promise<T> {
    return this.enqueue<T>({
      kind: "update",
      lockOptions: options.lock,
      maintenance: options.maintenance,
      apply: async (working) => {
        const draft = createDraft(working);
        let result: T;
        try {
          result = await this.inContext(() => mutator(draft.store));
          draft.commit();
        } finally {
          draft.revoke();
        }
        // A mutator returning its draft (which is revoked now) gets the committed snapshot.
        return (committed) => (result === (draft.store as unknown) ? committed.snapshot() : result);
      },
    });
  }

  /**
   * Queues a whole-store replacement: keys missing from `store` are removed, the others take its
   * values, and the file follows its key order.
   */
  replace(store: SessionStoreSnapshot, options: QueuedUpdateOptions): Promise<void> {
    return this.enqueue<void>({
      kind: "update",
      lockOptions: options.lock,
      maintenance: options.maintenance,
      apply: async (working) => {
        const keys = Object.keys(store);
        const prepared = new Map<string, ReturnType<WorkingStore["prepare"]> | typeof REMOVED>();
        for (const key of keys) {
          const value = store[key];
          if (value === undefined) continue;
          const change = working.prepare(key, value, working.get(key));
          if (change !== undefined) prepared.set(key, change);
        }
        const given = new Set(keys);
        for (const key of working.keys()) {
          if (!given.has(key) || store[key] === undefined) prepared.set(key, REMOVED);
        }
        for (const [key, change] of prepared) {
          if (change !== undefined) working.changes.set(key, change);
        }
        const natural = working.keys();
        const wanted = keys.filter((key) => store[key] !== undefined);
        if (
          natural.length !== wanted.length ||
          natural.some((key, index) => key !== wanted[index])
        ) {
          working.order = wanted;
        }
        return () => undefined;
      },
    });
  }

  /**
   * Queues an update of one entry as `updateSessionStoreEntry` defines it: a missing key gives
   * `null`; `update` returns a patch, or `null` for no change; the patch is merged and the
   * committed entry returned.
   */
  updateEntry(
    sessionKey: string,
    update: (
      entry: SessionEntry,
    ) => Partial<SessionEntry> | null | Promise<Partial<SessionEntry> | null>,
    merge: (existing: SessionEntry, patch: Partial<SessionEntry>) => SessionEntry,
    options: QueuedUpdateOptions,
  ): Promise<SessionEntry | null> {
    return this.enqueue<SessionEntry | null>({
      kind: "update",
      lockOptions: options.lock,
      maintenance: options.maintenance,
      apply: async (working) => {
        const existing = working.get(sessionKey) as SessionEntry | undefined;
        if (existing === undefined) return () => null;
        const patch = await this.inContext(() => update(existing));
        if (patch === null) return () => existing;
        const merged = merge(existing, patch);
        const change = working.prepare(sessionKey, merged, existing);
        if (change !== undefined) working.changes.set(sessionKey, change);
        // The entry as this job left it, even if a later job of the batch changes it again.
        const committed = (working.get(sessionKey) as SessionEntry | undefined) ?? null;
        return () => committed;
      },
    });
  }

  /** Queues `fn` to run alone while holding the store lock. */
  exclusive<T>(
    fn: (lock: HeldFileLock) => T | Promise<T>,
    lockOptions: FileLockOptions,
  ): Promise<T> {
    return this.enqueue<T>({
      kind: "exclusive",
      lockOptions,
      run: (lock) => this.inContext(() => fn(lock)),
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const head = this.pending[0] as Job;
        if (head.kind === "exclusive") {
          this.pending.shift();
          try {
            head.resolve(await this.host.exclusive((lock) => head.run(lock), head.lockOptions));
          } catch (error) {
            head.reject(error);
          }
          continue;
        }
        await this.runBatch(head.lockOptions);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Takes the updates at the head of the queue that share `lockOptions`. */
  private takeBatch(lockOptions: FileLockOptions): UpdateJob[] {
    let count = 0;
    while (count < this.pending.length) {
      const job = this.pending[count] as Job;
      if (job.kind !== "update" || !sameLockOptions(job.lockOptions, lockOptions)) break;
      count += 1;
    }
    return this.pending.splice(0, count) as UpdateJob[];
  }

  private async runBatch(lockOptions: FileLockOptions): Promise<void> {
    let session: StoreSession;
    try {
      session = await this.host.open(lockOptions);
    } catch (error) {
      for (const job of this.takeBatch(lockOptions)) job.reject(error);
      return;
    }
    // Taken after the lock: whatever was queued while waiting for it joins this batch.
    const jobs = this.takeBatch(lockOptions);
    // The run whose base was proven current: every job's outcome comes from it alone.
    let final: BatchRun | undefined;
    let state: StoreState | undefined;
    let failure: { error: unknown } | undefined;
    try {
      let base = session.base;
      for (;;) {
        const run = await this.runJobs(jobs, base);
        // Staging (the file write and its flush) overlaps the host's check of the base.
        let staged: StagedCommit | undefined;
        let stageFailure: { error: unknown } | undefined;
        try {
          staged = await session.stage(run.working, run.rotateBytes);
        } catch (error) {
          stageFailure = { error };
        }
        let committed = false;
        try {
          const fresh = await session.verify();
          if (fresh !== undefined) {
            // The store changed under the cached base: run every job again on the fresh state.
            base = fresh;
            continue;
          }
          final = run;
          if (stageFailure !== undefined) throw stageFailure.error;
          state = await (staged as StagedCommit).commit();
          committed = true;
        } finally {
          if (!committed) await staged?.discard();
        }
        break;
      }
    } catch (error) {
      failure = { error };
    } finally {
      try {
        await session.release();
      } catch (error) {
        failure ??= { error };
      }
    }
    for (let index = 0; index < jobs.length; index += 1) {
      const job = jobs[index] as UpdateJob;
      const outcome = final?.outcomes[index];
      if (outcome === undefined || failure !== undefined) {
        // No run was proven current (its result would be a guess), or the write failed.
        job.reject(outcome !== undefined && !outcome.ok ? outcome.error : failure?.error);
        continue;
      }
      if (!outcome.ok) {
        job.reject(outcome.error);
        continue;
      }
      try {
        if (outcome.warning !== undefined) job.maintenance?.onWarn?.(outcome.warning);
        if (outcome.removed.length > 0) await job.maintenance?.onRemoved?.(outcome.removed);
        job.resolve(outcome.result(state as StoreState));
      } catch (error) {
        job.reject(error);
      }
    }
  }

  /**
   * Runs every job on a working copy of `base`, each on its own draft: a job that throws is
   * rolled back alone and its error kept as its outcome.
   */
  private async runJobs(jobs: readonly UpdateJob[], base: StoreState): Promise<BatchRun> {
    const working = new WorkingStore(base);
    const outcomes: JobOutcome[] = [];
    let rotateBytes: number | undefined;
    for (const job of jobs) {
      // Snapshot of the committed changes, to roll this job back alone if it fails.
      const before = new Map(working.changes);
      const orderBefore = working.order;
      try {
        const result = await job.apply(working);
        const { removed, warning } = this.maintain(working, job.maintenance);
        outcomes.push({ ok: true, result, removed, warning });
        if (job.maintenance?.mode === "enforce") {
          const limit = job.maintenance.rotateBytes ?? DEFAULT_ROTATE_BYTES;
          rotateBytes = Math.min(rotateBytes ?? limit, limit);
        }
      } catch (error) {
        working.changes.clear();
        for (const [key, change] of before) working.changes.set(key, change);
        working.order = orderBefore;
        outcomes.push({ ok: false, error });
      }
    }
    return { working, outcomes, rotateBytes };
  }

  private maintain(
    working: WorkingStore,
    policy: SessionMaintenancePolicy | undefined,
  ): { removed: RemovedSessionEntry[]; warning: SessionMaintenanceWarning | undefined } {
    if (policy === undefined) return { removed: [], warning: undefined };
    const outcome = applyMaintenance(
      {
        keys: () => working.keys(),
        get: (key) => working.get(key),
        remove: (key) => {
          working.changes.set(key, REMOVED);
        },
      },
      policy,
    );
    return { removed: outcome.removed, warning: outcome.warning };
  }
}
