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
 * Builds the next file from members in their final order. Consecutive members copied from
 * consecutive ranges of the previous file are copied as one block, separators included. The
 * result is byte-identical to `JSON.stringify(store, null, 2)` of the same store.
 */
export function assembleStore(
  members: readonly LayoutMember[],
  previous: StoreLayout | undefined,
  source: BufferSource = allocate,
): StoreLayout {
  const count = members.length;
  if (count === 0) return emptyLayout();
  const starts = new Float64Array(count);
  const ends = new Float64Array(count);

  // Copy operations: source buffer and byte range, in output order.
  const sources: Buffer[] = [OPEN];
  const froms: number[] = [0];
  const tos: number[] = [OPEN.length];
  const pushCopy = (buffer: Buffer, from: number, to: number): void => {
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
        // Extend the previous block over the separator and this member.
        const last = tos.length - 1;
        const gap = from - (tos[last] as number);
        tos[last] = to;
        starts[index] = position + gap;
        position += gap + (to - from);
      } else {
        if (index > 0) {
          pushCopy(SEPARATOR, 0, SEPARATOR.length);
          position += SEPARATOR.length;
        }
        pushCopy(previous.bytes, from, to);
        starts[index] = position;
        position += to - from;
      }
      lastPreviousIndex = member.previousIndex;
    } else {
      if (index > 0) {
        pushCopy(SEPARATOR, 0, SEPARATOR.length);
        position += SEPARATOR.length;
      }
      pushCopy(member.piece, 0, member.piece.length);
      starts[index] = position;
      position += member.piece.length;
      lastPreviousIndex = -2;
    }
    ends[index] = position;
  }
  pushCopy(CLOSE, 0, CLOSE.length);
  position += CLOSE.length;

  const bytes = source(position);
  let offset = 0;
  for (let index = 0; index < sources.length; index += 1) {
    offset += (sources[index] as Buffer).copy(bytes, offset, froms[index], tos[index]);
  }
  return { bytes, starts, ends };
}

/** A member replaced in place: its index in the previous layout and its new bytes. */
export interface ReplacedMember {
  index: number;
  piece: Buffer;
}

/**
 * The common case in one pass and without per-member objects: some members replaced in place
 * (`replaced` sorted by index) and some appended, nothing removed or reordered. Copies the
 * unchanged runs of the previous file as blocks and shifts their ranges.
 */
export function patchLayout(
  previous: StoreLayout,
  replaced: readonly ReplacedMember[],
  appended: readonly Buffer[],
  source: BufferSource = allocate,
): StoreLayout {
  const oldCount = previous.starts.length;
  if (oldCount === 0) {
    return assembleStore(
      appended.map((piece) => ({ piece })),
      undefined,
      source,
    );
  }
  const count = oldCount + appended.length;
  let size = previous.bytes.length;
  for (const { index, piece } of replaced) {
    size += piece.length - ((previous.ends[index] as number) - (previous.starts[index] as number));
  }
  for (const piece of appended) size += SEPARATOR.length + piece.length;

  const bytes = source(size);
  const starts = new Float64Array(count);
  const ends = new Float64Array(count);
  let copiedUpTo = 0; // position in the previous file
  let position = 0; // position in the new file
  let shift = 0; // new position minus previous position for the current run
  let nextMember = 0;
  for (const { index, piece } of replaced) {
    const from = previous.starts[index] as number;
    position += previous.bytes.copy(bytes, position, copiedUpTo, from);
    for (; nextMember < index; nextMember += 1) {
      starts[nextMember] = (previous.starts[nextMember] as number) + shift;
      ends[nextMember] = (previous.ends[nextMember] as number) + shift;
    }
    starts[index] = position;
    position += piece.copy(bytes, position);
    ends[index] = position;
    nextMember = index + 1;
    copiedUpTo = previous.ends[index] as number;
    shift = position - copiedUpTo;
  }
  const lastEnd = previous.ends[oldCount - 1] as number;
  position += previous.bytes.copy(bytes, position, copiedUpTo, lastEnd);
  for (; nextMember < oldCount; nextMember += 1) {
    starts[nextMember] = (previous.starts[nextMember] as number) + shift;
    ends[nextMember] = (previous.ends[nextMember] as number) + shift;
  }
  for (let offset = 0; offset < appended.length; offset += 1) {
    const piece = appended[offset] as Buffer;
    position += SEPARATOR.copy(bytes, position);
    starts[oldCount + offset] = position;
    position += piece.copy(bytes, position);
    ends[oldCount + offset] = position;
  }
  position += CLOSE.copy(bytes, position);
  if (position !== size) throw new Error("store layout patch miscounted its size");
  return { bytes, starts, ends };
}
