import { SessionsPatchParamsSchema, type SessionsPatchResult } from "@clawkeep/schema";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { parseJsonFlag } from "../json-flag.ts";
import { rawOptionValue } from "../raw-options.ts";
import {
  openSessionsCaller,
  qualifyKey,
  type SessionsConnectionFlags,
} from "../sessions-caller.ts";
import { usageError } from "../usage-error.ts";

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

/** `clawkeep sessions patch <key> …`: the `sessions.patch` method. */
export async function runSessionsPatch(
  params: Record<string, unknown>,
  connection: SessionsConnectionFlags,
  context: CommandContext,
): Promise<CommandResult<SessionsPatchResult & { via: string }>> {
  const caller = await openSessionsCaller(connection, context);
  try {
    const result = await caller.call<SessionsPatchResult>("sessions.patch", {
      ...params,
      key: qualifyKey(String(params.key), connection.agent),
    });
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
