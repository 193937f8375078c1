import type { z } from "zod";

type Issue = z.core.$ZodIssue;
type PathSegment = PropertyKey;

/** One validation problem, worded as openclaw's gateway words it. */
export interface ValidationIssue {
  /** JSON pointer of the value concerned (`""` for the root, `/label`, `/client/id`). */
  path: string;
  /** The problem, for example `must be >= 20` or `unexpected property 'foo'`. */
  message: string;
}

export interface ValidationIssueOptions {
  /**
   * The value that was validated. zod reports a missing property and a property of the wrong
   * type with the same issue; the input tells them apart. Without it, an issue from a parse run
   * with `reportInput: true` whose `input` is `undefined` counts as missing.
   * @default undefined
   */
  input?: unknown;
}

interface DescribedIssue extends ValidationIssue {
  /** Unknown properties are prefixed `at root:` even at the root; other root issues are not. */
  unexpected: boolean;
}

// A schema may carry its own message in the wire wording (`integer()` does, because zod reports
// a non-number given to an int schema as "expected number"); such a message is used verbatim.
const WIRE_MESSAGE_PREFIX = "must ";

const TYPE_WORDS: Record<string, string> = {
  int: "integer",
  number: "number",
  string: "string",
  boolean: "boolean",
  object: "object",
  array: "array",
  null: "null",
};

function escapePointerSegment(segment: PathSegment): string {
  return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

function toPointer(path: readonly PathSegment[]): string {
  return path.map((segment) => `/${escapePointerSegment(segment)}`).join("");
}

function valueAt(input: unknown, path: readonly PathSegment[]): unknown {
  let current: unknown = input;
  for (const segment of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function isMissingProperty(
  issue: Issue,
  path: readonly PathSegment[],
  options: ValidationIssueOptions,
): boolean {
  const last = path.at(-1);
  if (last === undefined || typeof last === "number") return false;
  if ("input" in options) {
    const parent = valueAt(options.input, path.slice(0, -1));
    return (
      typeof parent === "object" && parent !== null && !Array.isArray(parent) && !(last in parent)
    );
  }
  return "input" in issue && issue.input === undefined;
}

function sizeUnit(origin: string): string | undefined {
  if (origin === "string") return "characters";
  if (origin === "array" || origin === "set") return "items";
  if (origin === "object" || origin === "map") return "properties";
  return undefined;
}

function describeSize(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === "too_small";
  const limit = Number(small ? issue.minimum : issue.maximum);
  const unit = sizeUnit(issue.origin);
  if (unit !== undefined) {
    // A length of exactly N fails one of the two bounds; the wire wording is always inclusive.
    const bound = issue.inclusive === false ? (small ? limit + 1 : limit - 1) : limit;
    return `must NOT have ${small ? "fewer" : "more"} than ${bound} ${unit}`;
  }
  const operator = small ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
  return `must be ${operator} ${limit}`;
}

function describeInto(
  issue: Issue,
  prefix: readonly PathSegment[],
  options: ValidationIssueOptions,
  out: DescribedIssue[],
): void {
  const path = [...prefix, ...issue.path];
  const push = (at: readonly PathSegment[], message: string, unexpected = false) => {
    out.push({ path: toPointer(at), message, unexpected });
  };

  // Whatever zod says about an absent property (a type, a union or a literal mismatch), the
  // wire says it is required.
  if (issue.code !== "unrecognized_keys" && isMissingProperty(issue, path, options)) {
    push(path.slice(0, -1), `must have required property '${String(path.at(-1))}'`);
    return;
  }

  switch (issue.code) {
    case "invalid_type": {
      if (issue.message.startsWith(WIRE_MESSAGE_PREFIX)) {
        push(path, issue.message);
      } else {
        push(path, `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`);
      }
      return;
    }
    case "unrecognized_keys":
      for (const key of issue.keys) push(path, `unexpected property '${key}'`, true);
      return;
    case "invalid_union":
      // Every branch's own complaint first, then the union's: the order of an anyOf report.
      for (const branch of issue.errors) {
        for (const inner of branch) describeInto(inner, path, options, out);
      }
      push(path, "must match a schema in anyOf");
      return;
    case "invalid_key":
    case "invalid_element":
      for (const inner of issue.issues) describeInto(inner, path, options, out);
      return;
    default:
      break;
  }

  if (issue.message.startsWith(WIRE_MESSAGE_PREFIX)) {
    push(path, issue.message);
    return;
  }
  switch (issue.code) {
    case "too_small":
    case "too_big":
      push(path, describeSize(issue));
      return;
    case "invalid_value":
      push(
        path,
        issue.values.length === 1
          ? "must be equal to constant"
          : "must be equal to one of the allowed values",
      );
      return;
    case "invalid_format":
      push(
        path,
        issue.format === "regex" && issue.pattern !== undefined
          ? `must match pattern "${issue.pattern}"`
          : `must match format "${issue.format}"`,
      );
      return;
    case "not_multiple_of":
      push(path, `must be multiple of ${String(issue.divisor)}`);
      return;
    default:
      push(path, issue.message);
  }
}

/**
 * Turns zod issues into path + message pairs worded as openclaw's gateway words them
 * (`must be >= 20`, `must have required property 'key'`, `unexpected property 'foo'`, …).
 * A failed union lists every branch's complaint and then `must match a schema in anyOf`.
 * Duplicates are removed; the order is zod's.
 */
export function describeValidationIssues(
  issues: readonly Issue[],
  options: ValidationIssueOptions = {},
): ValidationIssue[] {
  return describeUnique(issues, options).map(({ path, message }) => ({ path, message }));
}

function describeUnique(issues: readonly Issue[], options: ValidationIssueOptions) {
  const described: DescribedIssue[] = [];
  for (const issue of issues) describeInto(issue, [], options, described);
  const seen = new Set<string>();
  return described.filter((issue) => {
    const id = `${issue.path}\u0000${issue.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function formatOne(issue: DescribedIssue): string {
  if (issue.unexpected) return `at ${issue.path === "" ? "root" : issue.path}: ${issue.message}`;
  return issue.path === "" ? issue.message : `at ${issue.path}: ${issue.message}`;
}

/**
 * Formats zod issues as one line in openclaw's text format, for example
 * `at /maxChars: must be >= 20; at root: unexpected property 'foo'`.
 */
export function formatValidationIssues(
  issues: readonly Issue[],
  options: ValidationIssueOptions = {},
): string {
  return describeUnique(issues, options).map(formatOne).join("; ");
}

export type ValidateParamsResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      /** `invalid <method> params: <details>`, the wire text of an `INVALID_REQUEST`. */
      message: string;
      issues: ValidationIssue[];
    };

/**
 * Validates the params of a gateway method. Absent params count as `{}`, as the gateway hands
 * a handler `params ?? {}`. A failure carries openclaw's text, ready for an `INVALID_REQUEST`.
 */
export function validateParams<Schema extends z.ZodType>(
  method: string,
  schema: Schema,
  params: unknown,
): ValidateParamsResult<z.output<Schema>> {
  const input = params === undefined ? {} : params;
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const options = { input };
  return {
    ok: false,
    message: `invalid ${method} params: ${formatValidationIssues(result.error.issues, options)}`,
    issues: describeValidationIssues(result.error.issues, options),
  };
}
