import type { FSWatcher } from "node:fs";
import { mkdirSync, watch } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { SessionsError } from "@clawkeep/schema";
import type { StagedAtomicWrite } from "./atomic-write.ts";
import { removeOrphanedTempFiles, stageAtomicWrite } from "./atomic-write.ts";
import { resolveSessionCacheTtlMs } from "./cache-ttl.ts";
import type { FileLockOptions, HeldFileLock } from "./file-lock.ts";
import { acquireFileLock } from "./file-lock.ts";
import { rotateSessionFile } from "./maintenance.ts";
import type {
  SessionStoreChange,
  SessionStoreListener,
  SessionStoreSnapshot,
  SessionStoreWatchOptions,
} from "./session-store-backend.ts";
import type { WorkingStore } from "./store-draft.ts";
import { StoreState } from "./store-draft.ts";
import { diffSnapshots } from "./store-list.ts";
import { parseStoreBytes } from "./store-parse.ts";
import type { StoreLayout } from "./store-serialize.ts";
import { materializeLayout, planEquals } from "./store-serialize.ts";
import type { StagedCommit, StoreHost, StoreSession } from "./update-queue.ts";
import { StoreUpdateQueue } from "./update-queue.ts";

/** The bytes of the store file as this process last read or wrote them. */
interface DiskState {
  exists: boolean;
  bytes: Buffer;
  size: number;
  mtimeMs: number;
  ino: number;
}

const MISSING: DiskState = { exists: false, bytes: Buffer.alloc(0), size: 0, mtimeMs: 0, ino: 0 };
const EMPTY_STORE: SessionStoreSnapshot = Object.freeze({});
const COMPARE_CHUNK_BYTES = 1024 * 1024;
// Chunk buffers for comparing a file with the bytes last seen, reused across reads (each read
// takes one for itself, so concurrent reads never share one).
const scratchBuffers: Buffer[] = [];
/** Orphaned temp files are looked for on the first write and then at most this often. */
const TEMP_SWEEP_INTERVAL_MS = 60_000;

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function ioError(action: string, path: string, error: unknown): SessionsError {
  if (SessionsError.isInstance(error)) return error;
  return new SessionsError("STORE_IO", `cannot ${action} ${path}: ${(error as Error).message}`, {
    details: { path, errno: errnoOf(error) },
    cause: error,
  });
}

async function openForReading(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, "r");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw ioError("read", path, error);
  }
}

async function readRange(
  handle: FileHandle,
  into: Buffer,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(into, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

// Buffers allocated here for file contents, and only those, may be reused for a later write: a
// small Buffer from `Buffer.from` can be a slice of Node's shared pool, which must never be
// written into.
const ownedBuffers = new WeakSet<ArrayBufferLike>();

function ownedBuffer(size: number, capacity = size): Buffer {
  const buffer = Buffer.allocUnsafeSlow(capacity);
  ownedBuffers.add(buffer.buffer);
  return buffer.subarray(0, size);
}

/**
 * Reads the open store file, unless its bytes equal `known` (same size, then the same bytes,
 * compared in chunks without reading the whole file into new memory). Comparing the bytes
 * themselves rather than mtime or inode is what makes this safe on ext4, where both can repeat.
 * `handle` is `undefined` when the file does not exist.
 */
async function readOpenFile(
  path: string,
  handle: FileHandle | undefined,
  known: DiskState | undefined,
): Promise<DiskState | "unchanged"> {
  if (handle === undefined) return known?.exists === false ? "unchanged" : MISSING;
  try {
    const stats = await handle.stat();
    const size = stats.size;
    if (known?.exists === true && known.size === size) {
      const chunk = scratchBuffers.pop() ?? Buffer.allocUnsafeSlow(COMPARE_CHUNK_BYTES);
      let position = 0;
      let equal = true;
      try {
        while (position < size) {
          const length = Math.min(chunk.length, size - position);
          const read = await readRange(handle, chunk, length, position);
          if (
            read !== length ||
            chunk.compare(known.bytes, position, position + length, 0, length) !== 0
          ) {
            equal = false;
            break;
          }
          position += length;
        }
      } finally {
        scratchBuffers.push(chunk);
      }
      if (equal) {
        known.mtimeMs = stats.mtimeMs;
        known.ino = stats.ino;
        return "unchanged";
      }
    }
    const bytes = ownedBuffer(size);
    const read = await readRange(handle, bytes, size, 0);
    return {
      exists: true,
      bytes: read === size ? bytes : bytes.subarray(0, read),
      size: read,
      mtimeMs: stats.mtimeMs,
      ino: stats.ino,
    };
  } catch (error) {
    throw ioError("read", path, error);
  }
}

/**
 * A read of the store file and the generation of this process's state when it started. When the
 * file held the bytes of the state current then, `state` is that state, else `disk` is the file.
 */
type ObservedRead = { generation: number } & (
  | { state: StoreState; disk?: undefined }
  | { state?: undefined; disk: DiskState }
);

/** The store file as found: its bytes (or that they are `known`), and the file still open. */
interface Examined {
  read: DiskState | "unchanged";
  handle: FileHandle | undefined;
}

async function examine(path: string, known: DiskState | undefined): Promise<Examined> {
  const handle = await openForReading(path);
  try {
    return { read: await readOpenFile(path, handle, known), handle };
  } catch (error) {
    await handle?.close();
    throw error;
  }
}

/** {@link readOpenFile} of the file at `path`, closed afterwards. */
async function readIfChanged(
  path: string,
  known: DiskState | undefined,
): Promise<DiskState | "unchanged"> {
  const { read, handle } = await examine(path, known);
  await handle?.close();
  return read;
}

/**
 * Closes the last handle of a store file that a commit has replaced. The kernel frees a file's
 * data when its last name and handle are gone, which takes milliseconds for a store of many
 * megabytes. Holding the handle across the rename moves that cost out of the rename, inside the
 * lock, to this close, which runs on the thread pool after the lock is released and which nobody
 * waits for. A crash closes the handle all the same: nothing is left behind.
 */
function closeReplacedFile(handle: FileHandle): void {
  void handle.close().catch(() => {
    // A read-only handle: closing it cannot lose data, and there is nothing to undo.
  });
}

type Settled<T> = { value: T } | { error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

function sameFile(
  disk: DiskState,
  stats: { size: number; mtimeMs: number; ino: number } | undefined,
): boolean {
  if (stats === undefined) return !disk.exists;
  return (
    disk.exists &&
    disk.size === stats.size &&
    disk.mtimeMs === stats.mtimeMs &&
    disk.ino === stats.ino
  );
}

interface Watcher {
  listener: SessionStoreListener;
  onError: ((error: unknown) => void) | undefined;
}

export interface LoadOptions {
  skipCache?: boolean | undefined;
  cacheTtlMs?: number | undefined;
}

const EMPTY_STATE_KEYS: readonly string[] = Object.freeze([]);

function parsedState(storePath: string, disk: DiskState): StoreState {
  if (!disk.exists) return StoreState.of(EMPTY_STORE, EMPTY_STATE_KEYS);
  const parsed = parseStoreBytes(storePath, disk.bytes);
  return StoreState.of(parsed.snapshot, parsed.keys);
}

/**
 * Everything this process knows about one store file, shared by every API call and backend
 * instance for that path: the current state with its bytes and layout, the write queue and the
 * watchers.
 */
export class FileStoreCore implements StoreHost {
  readonly storePath: string;
  readonly label: string;
  readonly queue: StoreUpdateQueue;
  private state: StoreState | undefined;
  private disk: DiskState | undefined;
  // Counts every change of `state` and `disk` (adopt, commit, invalidate). A read started at one
  // generation is adopted only if it is still the current one: otherwise a commit or a newer read
  // replaced the state while the read ran, and the read may show an older file.
  private generation = 0;
  // A commit is between its rename and taking its state as the current one: a read finishing now
  // may show the new file, whose state the commit itself is about to install and report.
  private committing = false;
  private loadedAt = 0;
  // The buffer of the previous write, reused for the next one: a store rewritten many times
  // then costs no new allocation (and no garbage collection of file-sized buffers) per write.
  private spare: Buffer | undefined;
  // Readers comparing against `disk.bytes` right now; while any runs, no buffer is reused.
  private pinned = 0;
  private lastTempSweep = Number.NEGATIVE_INFINITY;
  // The last check under the lock found the file changed behind the cache.
  private writtenByOthers = false;
  private readonly watchers = new Set<Watcher>();
  private watcher: FSWatcher | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private watchDebounceMs = 50;

  constructor(storePath: string) {
    this.storePath = storePath;
    this.label = storePath;
    this.queue = new StoreUpdateQueue(this);
  }

  /**
   * Reads the file unless it holds the bytes of the current state, keeping their buffer pinned
   * meanwhile. When the bytes are unchanged it returns the state that was current as the read
   * started (the file held it during the read), even if a commit has replaced it since.
   */
  private async readCurrent(): Promise<ObservedRead> {
    // Taken in the same tick as the pin, so that no write can reuse `known.bytes` in between.
    const generation = this.generation;
    const state = this.state;
    const known = this.disk;
    this.pinned += 1;
    let read: DiskState | "unchanged";
    try {
      read = await readIfChanged(this.storePath, known);
    } finally {
      this.pinned -= 1;
    }
    if (read !== "unchanged") return { generation, disk: read };
    // `disk` and `state` are set and cleared together, and only a known file can be unchanged.
    if (state === undefined) throw new Error(`no state for the known file ${this.storePath}`);
    return { generation, state };
  }

  /** True when nothing has replaced the state since `observed` started, nor is about to. */
  private stillCurrent(observed: ObservedRead): boolean {
    return this.generation === observed.generation && !this.committing;
  }

  /** The current state, from the cache when it is valid. */
  async load(options: LoadOptions = {}): Promise<StoreState> {
    const ttl = options.cacheTtlMs ?? resolveSessionCacheTtlMs();
    const cached = this.state;
    const known = this.disk;
    if (
      options.skipCache !== true &&
      ttl > 0 &&
      cached !== undefined &&
      known !== undefined &&
      Date.now() - this.loadedAt <= ttl
    ) {
      let stats: { size: number; mtimeMs: number; ino: number } | undefined;
      try {
        stats = await stat(this.storePath);
      } catch (error) {
        if (errnoOf(error) !== "ENOENT") throw ioError("read", this.storePath, error);
      }
      if (sameFile(known, stats)) return cached;
    }
    const observed = await this.readCurrent();
    const current = this.stillCurrent(observed);
    if (observed.disk === undefined) {
      if (current && options.skipCache !== true) this.loadedAt = Date.now();
      return observed.state;
    }
    const state = parsedState(this.storePath, observed.disk);
    if (current && options.skipCache !== true) this.adopt(observed.disk, state);
    return state;
  }

  /** Makes a state read from disk the current one and tells watchers what changed. */
  private adopt(disk: DiskState, state: StoreState): void {
    const previous = this.state;
    this.disk = disk;
    this.state = state;
    this.generation += 1;
    this.loadedAt = Date.now();
    if (previous !== undefined && this.watchers.size > 0) {
      const change = diffSnapshots(previous.snapshot(), state.snapshot());
      if (change.created.length + change.patched.length + change.deleted.length > 0) {
        this.emit(change);
      }
    }
  }

  /** Forgets the cached state; the next read goes to the disk. */
  invalidate(): void {
    this.state = undefined;
    this.disk = undefined;
    this.generation += 1;
    this.spare = undefined;
    this.loadedAt = 0;
  }

  /**
   * Takes the lock and starts comparing the file with the bytes last seen. With a cached state
   * the batch runs on it meanwhile (see {@link StoreSession}); without one it waits for the read.
   */
  async open(options: FileLockOptions): Promise<StoreSession> {
    const { lock, release } = await acquireFileLock(this.storePath, options);
    const known = this.disk;
    let base = known === undefined ? undefined : this.state;
    let disk = known ?? MISSING;
    let pending: Promise<Settled<Examined>> | undefined = settle(examine(this.storePath, known));
    // The store file as found under the lock, kept open until the batch ends (see
    // closeReplacedFile), and the same file once a commit has replaced it.
    let file: FileHandle | undefined;
    let replaced: FileHandle | undefined;

    const session: StoreSession = {
      get base() {
        return base as StoreState;
      },
      verify: async () => {
        if (pending === undefined) return undefined;
        const outcome = await pending;
        pending = undefined;
        if ("error" in outcome) throw outcome.error;
        file = outcome.value.handle;
        const read = outcome.value.read;
        if (known !== undefined) this.writtenByOthers = read !== "unchanged";
        if (read === "unchanged" && base !== undefined) return undefined;
        disk = read === "unchanged" ? MISSING : read;
        base = parsedState(this.storePath, disk);
        this.adopt(disk, base);
        return base;
      },
      stage: async (working, rotateBytes) => {
        const staged = await this.stage(working, disk, lock, rotateBytes);
        return {
          commit: async () => {
            const committed = await staged.commit();
            if (committed !== working.base) {
              replaced = file;
              file = undefined;
            }
            return committed;
          },
          discard: () => staged.discard(),
        };
      },
      release: async () => {
        try {
          // The read must not outlive the lock.
          const outcome = await pending;
          if (outcome !== undefined && "value" in outcome) await outcome.value.handle?.close();
          pending = undefined;
          await file?.close();
          file = undefined;
        } finally {
          await release();
          if (replaced !== undefined) closeReplacedFile(replaced);
        }
      },
    };
    if (base === undefined || this.writtenByOthers) {
      // Nothing cached to run on, or the cache was stale last time (another process is writing
      // this store, and a write made on the cached state would probably be wasted): the batch
      // waits for the check.
      try {
        await session.verify();
      } catch (error) {
        await session.release();
        throw error;
      }
    }
    return session;
  }

  async exclusive<T>(
    fn: (lock: HeldFileLock) => T | Promise<T>,
    options: FileLockOptions,
  ): Promise<T> {
    const { lock, release } = await acquireFileLock(this.storePath, options);
    try {
      return await fn(lock);
    } finally {
      await release();
    }
  }

  /** A buffer of exactly `size` bytes for the next file, reusing the previous write's. */
  private bufferFor(size: number): Buffer {
    const spare = this.spare;
    this.spare = undefined;
    if (spare !== undefined && spare.length >= size && this.pinned === 0) {
      return spare.subarray(0, size);
    }
    // Room to grow, so that a store gaining entries does not allocate on every write.
    return ownedBuffer(size, Math.ceil(size * 1.25) + 4096);
  }

  /**
   * Builds the next file from `working` and writes it to a flushed temp file; the commit renames
   * it into place. `disk` is the file the working store's base came from.
   */
  private async stage(
    working: WorkingStore,
    disk: DiskState,
    lock: HeldFileLock,
    rotateBytes: number | undefined,
  ): Promise<StagedCommit> {
    const base = working.base;
    const nothing: StagedCommit = { commit: async () => base, discard: async () => {} };
    if (working.isEmpty()) return nothing;
    const next = working.build();
    const plan = working.layout(next);
    // A patch or reassembly already compared with the previous bytes; a full serialisation
    // (the first write after a read) is compared here.
    const unchanged =
      plan === undefined ||
      (base.layout === undefined && disk.exists && planEquals(plan, disk.bytes));
    if (unchanged) return nothing;

    if (Date.now() - this.lastTempSweep >= TEMP_SWEEP_INTERVAL_MS) {
      await removeOrphanedTempFiles(this.storePath);
      // Left by a process killed while taking or breaking the lock.
      await removeOrphanedTempFiles(`${this.storePath}.lock`);
      this.lastTempSweep = Date.now();
    }
    lock.assertHeld();
    let layout: StoreLayout | undefined;
    const materialize = (): StoreLayout => materializeLayout(plan, (size) => this.bufferFor(size));
    let staged: StagedAtomicWrite;
    try {
      staged = await stageAtomicWrite(this.storePath, plan.pieces, {
        // The contiguous copy, which the next write patches and the next check compares with,
        // is made while the kernel copies the same runs into the temp file.
        duringWrite: () => {
          layout = materialize();
        },
      });
    } catch (error) {
      if (layout !== undefined) this.giveBack(layout.bytes);
      throw error;
    }
    // `duringWrite` runs whenever there is data to write, which a store file always has.
    const committedLayout = layout ?? materialize();
    const bytes = committedLayout.bytes;
    next.layout = committedLayout;
    return {
      commit: async () => {
        if (rotateBytes !== undefined) {
          await rotateSessionFile(this.storePath, { rotateBytes, keepOriginal: true });
        }
        lock.assertHeld();
        this.committing = true;
        try {
          const written = await staged.commit({ signal: lock.signal });
          this.disk = {
            exists: true,
            bytes,
            size: written.size,
            mtimeMs: written.mtimeMs,
            ino: written.ino,
          };
          this.state = next;
          this.generation += 1;
          this.loadedAt = Date.now();
        } finally {
          this.committing = false;
        }
        // The previous file's buffer is referenced by nothing current any more.
        this.giveBack(disk.bytes);
        if (this.watchers.size > 0) this.emit(working.describe(next.snapshot()));
        return next;
      },
      discard: async () => {
        await staged.discard();
        this.giveBack(bytes);
      },
    };
  }

  /** Keeps a file buffer that nothing current refers to for the next write. */
  private giveBack(bytes: Buffer): void {
    const buffer = bytes.buffer;
    if (this.disk?.bytes.buffer === buffer || !ownedBuffers.has(buffer)) return;
    this.spare = Buffer.from(buffer, 0, buffer.byteLength);
  }

  private emit(change: SessionStoreChange): void {
    for (const watcher of this.watchers) {
      try {
        watcher.listener(change);
      } catch (error) {
        // A failing listener must not undo a commit or starve the other listeners.
        watcher.onError?.(error);
      }
    }
  }

  /**
   * Calls `listener` after every change of the file. The directory is watched rather than the
   * file, because every write replaces the file by a rename, which silences a file watcher.
   */
  watch(
    listener: SessionStoreListener,
    options: SessionStoreWatchOptions & { debounceMs?: number } = {},
  ): () => void {
    const watcher: Watcher = { listener, onError: options.onError };
    this.watchers.add(watcher);
    if (options.debounceMs !== undefined) this.watchDebounceMs = options.debounceMs;
    if (this.watcher === undefined) this.startWatching();
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0) this.stopWatching();
    };
  }

  private startWatching(): void {
    const dir = dirname(this.storePath);
    const name = basename(this.storePath);
    try {
      mkdirSync(dir, { recursive: true });
      this.watcher = watch(dir, { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) this.scheduleRefresh();
      });
    } catch (error) {
      throw ioError("watch", dir, error);
    }
    this.watcher.on("error", (error) => {
      for (const watcher of this.watchers) watcher.onError?.(error);
    });
    // A first read gives the watchers a state to compare later changes with.
    if (this.state === undefined) this.scheduleRefresh();
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.watchTimer !== undefined) clearTimeout(this.watchTimer);
    this.watchTimer = undefined;
  }

  private scheduleRefresh(): void {
    if (this.watchTimer !== undefined) clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => {
      this.watchTimer = undefined;
      // A batch of this process is writing: its commit reports its own change, and the event
      // caused by its rename must not be reported a second time. Look again afterwards.
      if (this.queue.busy) {
        this.scheduleRefresh();
        return;
      }
      this.refreshForWatchers().catch((error: unknown) => {
        for (const watcher of this.watchers) watcher.onError?.(error);
      });
    }, this.watchDebounceMs);
    this.watchTimer.unref();
  }

  private async refreshForWatchers(): Promise<void> {
    if (this.watchers.size === 0) return;
    const observed = await this.readCurrent();
    if (observed.disk === undefined) return;
    if (!this.stillCurrent(observed)) {
      // A commit or another read replaced the state meanwhile (or is about to), possibly with an
      // older file than this read found: look again rather than report a change twice or never.
      this.scheduleRefresh();
      return;
    }
    this.adopt(observed.disk, parsedState(this.storePath, observed.disk));
  }
}

const cores = new Map<string, FileStoreCore>();

/** The shared state of the store at `storePath` (resolved to an absolute path). */
export function getFileStoreCore(storePath: string): FileStoreCore {
  const path = resolve(storePath);
  let core = cores.get(path);
  if (core === undefined) {
    core = new FileStoreCore(path);
    cores.set(path, core);
  }
  return core;
}

/** Drops the cached state of one store, or of every store. */
export function invalidateFileStoreCaches(storePath?: string): void {
  if (storePath === undefined) {
    for (const core of cores.values()) core.invalidate();
    return;
  }
  cores.get(resolve(storePath))?.invalidate();
}
