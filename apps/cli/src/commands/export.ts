import { resolve } from "node:path";
import type { SessionExport } from "@clawkeep/maintenance";
import { SessionsError } from "@clawkeep/schema";
import { createFileExclusively } from "@clawkeep/store";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";

export interface ExportFlags {
  out: string | undefined;
}

export interface ExportData {
  key: string;
  agentId: string;
  sessionId: string;
  /** The file written, when `--out` was given. */
  out?: string;
  /** The export itself, when no `--out` was given. */
  document?: SessionExport;
}

/**
 * `clawkeep export <key> [--out file]`: one session as one JSON document, written to a new file
 * (never over an existing one) or printed.
 */
export async function runExport(
  key: string,
  flags: ExportFlags,
  context: CommandContext,
): Promise<CommandResult<ExportData>> {
  const { exportSession } = await import("@clawkeep/maintenance");
  const { document } = await exportSession(key, {
    stateDir: context.stateDir,
    config: await context.loadConfig(),
  });
  const base = {
    key: document.key,
    agentId: document.agentId,
    sessionId: document.entry.sessionId,
  };
  const text = JSON.stringify(document, null, 2);
  if (flags.out === undefined) {
    return { data: { ...base, document }, exitCode: EXIT_CODES.OK, render: () => text };
  }
  const out = resolve(flags.out);
  if ((await createFileExclusively(out, `${text}\n`, 0o600)) === "exists") {
    throw new SessionsError(
      "ALREADY_EXISTS",
      `${out} exists already; choose another --out or remove it first`,
      {
        details: { path: out },
      },
    );
  }
  return {
    data: { ...base, out },
    exitCode: EXIT_CODES.OK,
    render: () => `Exported ${document.key} (session ${document.entry.sessionId}) to ${out}`,
  };
}
