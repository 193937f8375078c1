import {
  SessionsPatchParamsSchema,
  type SessionsPatchResult,
  type SessionsResolveResult,
} from "@clawkeep/schema";
import { z } from "zod";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { parseJsonFlag } from "../json-flag.ts";
import { rawOptionValue } from "../raw-options.ts";
import {
  openSessionsCaller,
  qualifyKey,
  type SessionsCaller,
  type SessionsConnectionFlags,
} from "../sessions-caller.ts";
import { isUsageError, usageError } from "../usage-error.ts";

function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** Every patchable field of `sessions.patch`, in camelCase. */
const PATCH_FIELDS = Object.keys(SessionsPatchParamsSchema.shape).filter(
  (field) => field !== "key",
);

/**
 * The patch a command line asks for: `--params '<json>'` for the whole patch, and/or one flag per
 * field (`--thinking-level high`), and `--clear-<field>` to set a field to null. A field given
 * twice in different ways is a usage error.
 */
export function buildPatchParams(key: string, argv: readonly string[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const json = rawOptionValue(argv, "params");
  if (json !== undefined) {
    const value = parseJsonFlag("--params", json);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw usageError("--params must be a JSON object of patch fields");
    }
    Object.assign(patch, value);
  }
  for (const field of PATCH_FIELDS) {
    const value = rawOptionValue(argv, kebab(field));
    const clear = argv.includes(`--clear-${kebab(field)}`);
    if (value !== undefined && clear)
      throw usageError(`--${kebab(field)} and --clear-${kebab(field)} contradict each other`);
    if ((value !== undefined || clear) && Object.hasOwn(patch, field)) {
      throw usageError(`${field} is given both in --params and as a flag`);
    }
    if (value !== undefined) patch[field] = value;
    if (clear) patch[field] = null;
  }
  if (Object.keys(patch).filter((field) => field !== "key").length === 0) {
    throw usageError(
      "nothing to patch: give a field such as --label x or --clear-model, or --params '<json>'",
    );
  }
  return { ...patch, key };
}

/** How a field was given on the command line: `--send-policy`, or `--params sendPolicy`. */
function fieldSource(field: string, argv: readonly string[]): string {
  const flag = kebab(field);
  const given = argv.some(
    (arg) => arg === `--${flag}` || arg.startsWith(`--${flag}=`) || arg === `--clear-${flag}`,
  );
  return given ? `--${flag}` : `--params ${field}`;
}

/** The values a closed field accepts, read from the method's schema (`["allow", "deny"]`). */
function allowedValuesOf(field: string): string[] | undefined {
  let schema: unknown = (SessionsPatchParamsSchema.shape as Record<string, unknown>)[field];
  while (schema instanceof z.ZodOptional) schema = schema.unwrap();
  if (!(schema instanceof z.ZodUnion)) return undefined;
  const values = (schema.options as unknown[]).flatMap((option) =>
    option instanceof z.ZodLiteral ? [...option.values].map(String) : [],
  );
  return values.length > 0 ? values : undefined;
}

function formatChoices(values: readonly string[]): string {
  return values.map((value) => JSON.stringify(value)).join(" | ");
}

/**
 * A patch refusal in command-line terms: the flag (or `--params` field) that was wrong, what it
 * accepts, and for a label in use, which session has it. Messages it does not know stay as
 * they are.
 */
async function explainPatchRefusal(
  message: string,
  request: { params: Record<string, unknown>; argv: readonly string[] },
  caller: SessionsCaller,
): Promise<string> {
  const got = (field: string) =>
    request.params[field] === undefined ? "" : ` (got ${JSON.stringify(request.params[field])})`;
  const schemaField = /^invalid sessions\.patch params: at \/(\w+):/.exec(message)?.[1];
  if (schemaField !== undefined) {
    const allowed = allowedValuesOf(schemaField);
    if (allowed !== undefined) {
      return `${fieldSource(schemaField, request.argv)}: expected ${formatChoices(allowed)}${got(schemaField)}`;
    }
    return `${fieldSource(schemaField, request.argv)}: ${message}`;
  }
  const levels = /^invalid (\w+) \(use (.+)\)$/.exec(message);
  if (levels !== null) {
    const [, field = "", list = ""] = levels;
    const allowed = list.split("|").map((value) => value.trim().replace(/^"|"$/g, ""));
    return `${fieldSource(field, request.argv)}: expected ${formatChoices(allowed)}${got(field)}`;
  }
  if (/^invalid model: /.test(message)) {
    return `${fieldSource("model", request.argv)}: ${message}; give it as provider/model (for example anthropic/claude-opus-4-6) or as an alias from agents.defaults.models`;
  }
  if (/^model not allowed: /.test(message)) {
    return `${fieldSource("model", request.argv)}: ${message}; the config allows only the models in agents.defaults.models`;
  }
  const label = /^label already in use: (.*)$/.exec(message)?.[1];
  if (label !== undefined) {
    let holder: string | undefined;
    try {
      holder = (await caller.call<SessionsResolveResult>("sessions.resolve", { label })).key;
    } catch {
      // Without the holder the message is still right, only less helpful.
    }
    const where = holder === undefined ? "another session" : holder;
    const clear =
      holder === undefined
        ? ""
        : ` (clear it there with \`clawkeep sessions patch ${holder} --clear-label\`)`;
    return `${fieldSource("label", request.argv)}: label ${JSON.stringify(label)} is already used by ${where}; choose another${clear}`;
  }
  return message;
}

/** `clawkeep sessions patch <key> …`: the patch built from the command line, then `sessions.patch`. */
export async function runSessionsPatch(
  request: { key: string; argv: readonly string[] },
  connection: SessionsConnectionFlags,
  context: CommandContext,
): Promise<CommandResult<SessionsPatchResult & { via: string }>> {
  const params = buildPatchParams(request.key, request.argv);
  const caller = await openSessionsCaller(connection, context);
  try {
    let result: SessionsPatchResult;
    try {
      result = await caller.call<SessionsPatchResult>("sessions.patch", {
        ...params,
        key: qualifyKey(String(params.key), connection.agent),
      });
    } catch (error) {
      if (!isUsageError(error)) throw error;
      const explained = await explainPatchRefusal(
        (error as Error).message,
        { params, argv: request.argv },
        caller,
      );
      throw usageError(explained, { help: false });
    }
    return {
      data: { via: caller.via, ...result },
      exitCode: EXIT_CODES.OK,
      render: () => {
        const changed = Object.keys(params).filter((field) => field !== "key");
        const shown = changed.map(
          (field) => `${field}=${JSON.stringify(result.entry[field] ?? null)}`,
        );
        return `Patched ${result.key}: ${shown.join(", ")}`;
      },
    };
  } finally {
    await caller.close();
  }
}
