import type { SessionStoreSnapshot } from "./session-store-backend.ts";

/**
 * The serialised form of one store state: the exact bytes of `JSON.stringify(store, null, 2)`
 * and, for each top-level member (`  "key": value`, in the state's key order), its byte range.
 * The next write copies the ranges of entries that are still the same objects and serialises
 * only the others, so an update costs one entry's serialisation plus a memory copy.
 */
export interface StoreLayout {
  readonly bytes: Buffer;
  readonly starts: Float64Array;
  readonly ends: Float64Array;
}

/** A member of the next file: copied from the previous layout, or freshly serialised. */
export type LayoutMember = { previousIndex: number; piece?: undefined } | { piece: Buffer };

/** Gives the buffer a new file is assembled in; its length is exactly `size`. */
export type BufferSource = (size: number) => Buffer;

const OPEN = Buffer.from("{\n");
const CLOSE = Buffer.from("\n}");
const SEPARATOR = Buffer.from(",\n");
const EMPTY = Buffer.from("{}");
// A member boundary in 2-space JSON: nested members are indented by four or more spaces, and a
// key or string value cannot hold a raw newline, so this sequence occurs only between members.
const MEMBER_BOUNDARY = Buffer.from(',\n  "');

const allocate: BufferSource = (size) => Buffer.allocUnsafeSlow(size);

/**
 * One member as `JSON.stringify(store, null, 2)` writes it: `  "key": value`, the value's own
 * lines indented by two more spaces. `valueText` is the value serialised at the top level.
 */
export function serializeMember(
  key: string,
  entry: unknown,
): { member: string; valueText: string } {
  const valueText = JSON.stringify(entry, null, 2);
  return { member: `  ${JSON.stringify(key)}: ${valueText.replaceAll("\n", "\n  ")}`, valueText };
}

function emptyLayout(): StoreLayout {
  return { bytes: EMPTY, starts: new Float64Array(0), ends: new Float64Array(0) };
}

/**
 * Serialises a whole store with one native `JSON.stringify` (the fastest way to serialise many
 * entries) and finds the member ranges in the output. Used when no layout of the previous state
 * is known, right after a read.
 */
export function serializeStore(store: SessionStoreSnapshot, count: number): StoreLayout {
  if (count === 0) return emptyLayout();
  const bytes = Buffer.from(JSON.stringify(store, null, 2));
  const starts = new Float64Array(count);
  const ends = new Float64Array(count);
  let start = OPEN.length;
  for (let index = 0; index < count; index += 1) {
    starts[index] = start;
    if (index === count - 1) {
      ends[index] = bytes.length - CLOSE.length;
    } else {
      const boundary = bytes.indexOf(MEMBER_BOUNDARY, start);
      if (boundary === -1) throw new Error("store serialisation lost a member boundary");
      ends[index] = boundary;
      start = boundary + SEPARATOR.length;
    }
  }
  return { bytes, starts, ends };
}

/**
 * The next file as the byte runs to write in order (slices of the previous file, separators, new
 * members) and the member ranges it will have, before anything is copied: a writer can hand the
 * runs to the kernel (`writev`) and make the contiguous copy while the kernel writes.
 */
export interface LayoutPlan {
  readonly pieces: readonly Buffer[];
  readonly size: number;
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  /** The whole file in one buffer already (a full serialisation): nothing to copy. */
  readonly bytes?: Buffer | undefined;
}

function emptyPlan(): LayoutPlan {
  return {
    pieces: [EMPTY],
    size: EMPTY.length,
    starts: new Float64Array(0),
    ends: new Float64Array(0),
    bytes: EMPTY,
  };
}

/** A plan for a layout that exists already (a full serialisation). */
export function planOfLayout(layout: StoreLayout): LayoutPlan {
  return { ...layout, pieces: [layout.bytes], size: layout.bytes.length };
}

/** Copies a plan's runs into one buffer from `source` (or returns the buffer it already is). */
export function materializeLayout(plan: LayoutPlan, source: BufferSource = allocate): StoreLayout {
  if (plan.bytes !== undefined) return { bytes: plan.bytes, starts: plan.starts, ends: plan.ends };
  const bytes = source(plan.size);
  let offset = 0;
  for (const piece of plan.pieces) offset += piece.copy(bytes, offset);
  if (offset !== plan.size) throw new Error("store layout plan miscounted its size");
  return { bytes, starts: plan.starts, ends: plan.ends };
}

/** Whether a plan describes exactly `bytes`, compared run by run without copying. */
export function planEquals(plan: LayoutPlan, bytes: Buffer): boolean {
  if (plan.size !== bytes.length) return false;
  let offset = 0;
  for (const piece of plan.pieces) {
    if (piece.compare(bytes, offset, offset + piece.length) !== 0) return false;
    offset += piece.length;
  }
  return true;
}

/**
 * Plans the next file from members in their final order. Consecutive members copied from
 * consecutive ranges of the previous file become one run, separators included. The result is
 * byte-identical to `JSON.stringify(store, null, 2)` of the same store.
 */
export function planAssembly(
  members: readonly LayoutMember[],
  previous: StoreLayout | undefined,
): LayoutPlan {
  const count = members.length;
  if (count === 0) return emptyPlan();
  const starts = new Float64Array(count);
  const ends = new Float64Array(count);

  // Runs: source buffer and byte range, in output order.
  const sources: Buffer[] = [OPEN];
  const froms: number[] = [0];
  const tos: number[] = [OPEN.length];
  const pushRun = (buffer: Buffer, from: number, to: number): void => {
    sources.push(buffer);
    froms.push(from);
    tos.push(to);
  };
  let position = OPEN.length;
  let lastPreviousIndex = -2;
  for (let index = 0; index < count; index += 1) {
    const member = members[index] as LayoutMember;
    if (member.piece === undefined) {
      if (previous === undefined) throw new Error("store layout missing for a copied member");
      const from = previous.starts[member.previousIndex] as number;
      const to = previous.ends[member.previousIndex] as number;
      if (index > 0 && member.previousIndex === lastPreviousIndex + 1) {
        // Extend the previous run over the separator and this member.
        const last = tos.length - 1;
        const gap = from - (tos[last] as number);
        tos[last] = to;
        starts[index] = position + gap;
        position += gap + (to - from);
      } else {
        if (index > 0) {
          pushRun(SEPARATOR, 0, SEPARATOR.length);
          position += SEPARATOR.length;
        }
        pushRun(previous.bytes, from, to);
        starts[index] = position;
        position += to - from;
      }
      lastPreviousIndex = member.previousIndex;
    } else {
      if (index > 0) {
        pushRun(SEPARATOR, 0, SEPARATOR.length);
        position += SEPARATOR.length;
      }
      pushRun(member.piece, 0, member.piece.length);
      starts[index] = position;
      position += member.piece.length;
      lastPreviousIndex = -2;
    }
    ends[index] = position;
  }
  pushRun(CLOSE, 0, CLOSE.length);
  position += CLOSE.length;

  const pieces = sources.map((buffer, index) =>
    buffer.subarray(froms[index] as number, tos[index] as number),
  );
  return { pieces, size: position, starts, ends };
}

/** {@link planAssembly}, copied into one buffer from `source`. */
export function assembleStore(
  members: readonly LayoutMember[],
  previous: StoreLayout | undefined,
  source: BufferSource = allocate,
): StoreLayout {
  return materializeLayout(planAssembly(members, previous), source);
}

/** A member replaced in place: its index in the previous layout and its new bytes. */
export interface ReplacedMember {
  index: number;
  piece: Buffer;
}

/**
 * The common case in one pass and without per-member objects: some members replaced in place
 * (`replaced` sorted by index) and some appended, nothing removed or reordered. The unchanged
 * stretches of the previous file become runs and their ranges are shifted.
 */
export function planPatch(
  previous: StoreLayout,
  replaced: readonly ReplacedMember[],
  appended: readonly Buffer[],
): LayoutPlan {
  const oldCount = previous.starts.length;
  if (oldCount === 0) {
    return planAssembly(
      appended.map((piece) => ({ piece })),
      undefined,
    );
  }
  const count = oldCount + appended.length;
  let size = previous.bytes.length;
  for (const { index, piece } of replaced) {
    size += piece.length - ((previous.ends[index] as number) - (previous.starts[index] as number));
  }
  for (const piece of appended) size += SEPARATOR.length + piece.length;

  const pieces: Buffer[] = [];
  const starts = new Float64Array(count);
  const ends = new Float64Array(count);
  let copiedUpTo = 0; // position in the previous file
  let position = 0; // position in the new file
  let shift = 0; // new position minus previous position for the current run
  let nextMember = 0;
  for (const { index, piece } of replaced) {
    const from = previous.starts[index] as number;
    pieces.push(previous.bytes.subarray(copiedUpTo, from));
    position += from - copiedUpTo;
    for (; nextMember < index; nextMember += 1) {
      starts[nextMember] = (previous.starts[nextMember] as number) + shift;
      ends[nextMember] = (previous.ends[nextMember] as number) + shift;
    }
    starts[index] = position;
    pieces.push(piece);
    position += piece.length;
    ends[index] = position;
    nextMember = index + 1;
    copiedUpTo = previous.ends[index] as number;
    shift = position - copiedUpTo;
  }
  const lastEnd = previous.ends[oldCount - 1] as number;
  pieces.push(previous.bytes.subarray(copiedUpTo, lastEnd));
  position += lastEnd - copiedUpTo;
  for (; nextMember < oldCount; nextMember += 1) {
    starts[nextMember] = (previous.starts[nextMember] as number) + shift;
    ends[nextMember] = (previous.ends[nextMember] as number) + shift;
  }
  for (let offset = 0; offset < appended.length; offset += 1) {
    const piece = appended[offset] as Buffer;
    pieces.push(SEPARATOR);
    position += SEPARATOR.length;
    starts[oldCount + offset] = position;
    pieces.push(piece);
    position += piece.length;
    ends[oldCount + offset] = position;
  }
  pieces.push(CLOSE);
  position += CLOSE.length;
  if (position !== size) throw new Error("store layout patch miscounted its size");
  return { pieces, size, starts, ends };
}

/** {@link planPatch}, copied into one buffer from `source`. */
export function patchLayout(
  previous: StoreLayout,
  replaced: readonly ReplacedMember[],
  appended: readonly Buffer[],
  source: BufferSource = allocate,
): StoreLayout {
  return materializeLayout(planPatch(previous, replaced, appended), source);
}
