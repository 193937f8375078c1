import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ImportedSession } from "@clawkeep/maintenance";
import { SessionsError } from "@clawkeep/schema";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";

export interface ImportFlags {
  rename: boolean;
  agent: string | undefined;
}

/**
 * `clawkeep import <file> [--rename]`: refuses a key or session id that exists unless `--rename`,
 * which assigns fresh ones and prints the mapping.
 */
export async function runImport(
  file: string,
  flags: ImportFlags,
  context: CommandContext,
): Promise<CommandResult<ImportedSession>> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new SessionsError("STORE_IO", `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SessionsError(
      "INVALID_PARAMS",
      `${path} is not JSON (${(error as Error).message}); pass a file written by \`clawkeep export\``,
    );
  }
  const { importSession } = await import("@clawkeep/maintenance");
  let imported: ImportedSession;
  try {
    imported = await importSession(value, {
      stateDir: context.stateDir,
      config: await context.loadConfig(),
      rename: flags.rename,
      ...(flags.agent !== undefined && { agentId: flags.agent }),
    });
  } catch (error) {
    if (SessionsError.hasCode(error, "ALREADY_EXISTS") && !flags.rename) {
      throw new SessionsError(
        "ALREADY_EXISTS",
        `${error.message.replace(/; import with rename.*$/, "")}; pass --rename to import it under a fresh key and session id`,
        { cause: error },
      );
    }
    throw error;
  }
  return {
    data: imported,
    exitCode: EXIT_CODES.OK,
    render: () => {
      const lines = [
        `Imported ${imported.key} (session ${imported.sessionId}) into ${imported.storePath}`,
      ];
      if (imported.mapping !== undefined) {
        lines.push(`  key:        ${imported.mapping.key.from} → ${imported.mapping.key.to}`);
        lines.push(
          `  session id: ${imported.mapping.sessionId.from} → ${imported.mapping.sessionId.to}`,
        );
      }
      for (const note of imported.notes) lines.push(`  note: ${note}`);
      return lines.join("\n");
    },
  };
}
