import { AsyncLocalStorage } from "node:async_hooks";
import type { SessionEntry, SessionStore } from "@clawkeep/schema";
import type { FileLockOptions, HeldFileLock } from "./file-lock.ts";
import type { RemovedSessionEntry, SessionMaintenancePolicy } from "./maintenance.ts";
import { applyMaintenance, DEFAULT_ROTATE_BYTES } from "./maintenance.ts";
import type { SessionStoreSnapshot } from "./session-store-backend.ts";
import type { StoreState } from "./store-draft.ts";
import { createDraft, REMOVED, WorkingStore } from "./store-draft.ts";

/** Exclusive access to a store for one batch: its fresh base, and how to persist the result. */
export interface StoreSession {
  readonly base: StoreState;
  /**
   * Persists the batch's changes (nothing when they leave the store as it was) and makes them
   * the current state, which it resolves to.
   */
  commit(working: WorkingStore, rotateBytes: number | undefined): Promise<StoreState>;
  release(): Promise<void>;
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
 * lock, one fresh read, the mutators run one after another on a shared working copy (each on its
 * own draft, so a failing one rolls back alone), then one write.
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
      throw new Error(
        `session store ${this.host.label} was updated from inside its own mutator or lock callback; this would wait for itself`,
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
    const committed: {
      job: UpdateJob;
      result: (state: StoreState) => unknown;
      removed: RemovedSessionEntry[];
    }[] = [];
    let state = session.base;
    let failure: { error: unknown } | undefined;
    let rotateBytes: number | undefined;
    try {
      const working = new WorkingStore(session.base);
      for (const job of jobs) {
        // Snapshot of the committed changes, to roll this job back alone if it fails.
        const before = new Map(working.changes);
        const orderBefore = working.order;
        try {
          const result = await job.apply(working);
          const removed = this.maintain(working, job.maintenance);
          committed.push({ job, result, removed });
          if (job.maintenance?.mode === "enforce") {
            const limit = job.maintenance.rotateBytes ?? DEFAULT_ROTATE_BYTES;
            rotateBytes = Math.min(rotateBytes ?? limit, limit);
          }
        } catch (error) {
          working.changes.clear();
          for (const [key, change] of before) working.changes.set(key, change);
          working.order = orderBefore;
          job.reject(error);
        }
      }
      if (committed.length > 0) {
        state = await session.commit(working, rotateBytes);
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
    for (const { job, result, removed } of committed) {
      if (failure !== undefined) {
        job.reject(failure.error);
        continue;
      }
      try {
        if (removed.length > 0) await job.maintenance?.onRemoved?.(removed);
        job.resolve(result(state));
      } catch (error) {
        job.reject(error);
      }
    }
  }

  private maintain(
    working: WorkingStore,
    policy: SessionMaintenancePolicy | undefined,
  ): RemovedSessionEntry[] {
    if (policy === undefined) return [];
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
    if (outcome.warning !== undefined) policy.onWarn?.(outcome.warning);
    return outcome.removed;
  }
}
