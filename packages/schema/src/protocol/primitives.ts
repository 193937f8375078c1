import { z } from "zod";

/** Longest session label accepted anywhere (`sessions.patch`, `sessions.list`, `sessions.resolve`). */
export const SESSION_LABEL_MAX_LENGTH = 64;

// Checks abort so that a failing branch of a nullable union reports itself in full, as an
// anyOf does on the wire (`must NOT have more than 64 characters; must be null; …`), instead of
// zod picking the one branch whose type matched.
const abort = { abort: true } as const;

/** A string of at least one character. */
export function nonEmptyString() {
  return z.string().min(1, abort);
}

/** A session label: 1 to 64 characters. */
export function sessionLabelString() {
  return z.string().min(1, abort).max(SESSION_LABEL_MAX_LENGTH, abort);
}

/**
 * A safe integer, at least `minimum` when given. A value that is not a number at all is reported
 * as `must be integer`, as on the wire.
 */
export function integer(minimum?: number) {
  const schema = z.int({
    error: (issue) => (issue.code === "invalid_type" ? "must be integer" : undefined),
  });
  return minimum === undefined ? schema : schema.min(minimum, abort);
}

function literals<const Values extends readonly [string, ...string[]]>(values: Values) {
  return values.map((value) => z.literal(value)) as unknown as readonly [
    z.ZodLiteral<Values[number]>,
    ...z.ZodLiteral<Values[number]>[],
  ];
}

/** One of the given strings, reported like a union of constants (`must be equal to constant`). */
export function literalUnion<const Values extends readonly [string, ...string[]]>(values: Values) {
  return z.union(literals(values));
}

/** `schema` or `null`: in a patch, `null` clears the field. */
export function nullable<Schema extends z.ZodType>(schema: Schema) {
  return z.union([schema, z.null()]);
}

/**
 * One of the given strings or `null`, as one flat union: a nested union would report its
 * `must match a schema in anyOf` twice and out of order.
 */
export function nullableLiteralUnion<const Values extends readonly [string, ...string[]]>(
  values: Values,
) {
  return z.union([...literals(values), z.null()]);
}
