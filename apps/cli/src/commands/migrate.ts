import type { MigrationItemStatus, MigrationReport } from "@clawkeep/maintenance";
import { SessionsError } from "@clawkeep/schema";
import { expandHomePath } from "@clawkeep/store";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { formatTable, type OutputStyle, truncate } from "../output-style.ts";
import { storeSelectionOptions } from "../store-selection.ts";
import { usageError } from "../usage-error.ts";

export interface MigrateFlags {
  agent: string | undefined;
  store: string | undefined;
  dryRun: boolean;
  backup: boolean;
}

const PHASES = {
  read: "reading",
  backup: "backing up",
  write: "writing",
  check: "checking",
} as const;

/** Width of the table's note column; conflicts and errors are printed in full below the table. */
const NOTE_WIDTH = 100;

function statusLabel(status: MigrationItemStatus, dryRun: boolean, style: OutputStyle): string {
  switch (status) {
    case "migrated":
      return style.green(dryRun ? "would migrate" : "migrated");
    case "skipped":
      return style.dim("skipped");
    case "conflict":
      return style.yellow("conflict");
    default:
      return style.red("error");
  }
}

function render(report: MigrationReport, style: OutputStyle): string {
  const lines: string[] = [];
  if (report.items.length > 0) {
    lines.push(
      formatTable(
        ["FILE", "STATUS", "KEY", "NOTE"],
        report.items.map((item) => [
          item.file,
          statusLabel(item.status, report.dryRun, style),
          item.key ?? "-",
          truncate(item.reason ?? "", NOTE_WIDTH),
        ]),
        style,
      ),
      "",
    );
  }
  const failed = report.items.filter(
    (item) => item.status === "conflict" || item.status === "error",
  );
  if (failed.length > 0) {
    lines.push("Not migrated:");
    for (const item of failed) {
      lines.push(
        `  ${statusLabel(item.status, report.dryRun, style)} ${item.file}: ${item.reason}`,
      );
    }
    lines.push("");
  }
  if (report.mappings.length > 0) {
    lines.push("New session ids for ids that cannot be file names:");
    for (const mapping of report.mappings) {
      lines.push(`  ${JSON.stringify(mapping.legacyId)} → ${mapping.sessionId} (${mapping.key})`);
    }
    lines.push("");
  }
  for (const warning of report.warnings) lines.push(style.yellow(`warning: ${warning}`));
  if (report.warnings.length > 0) lines.push("");
  const verb = report.dryRun ? "would migrate" : "migrated";
  lines.push(
    `${report.found} found, ${report.migrated} ${verb}, ${report.skipped} skipped, ${report.conflicts} conflicts, ${report.errors} errors`,
  );
  if (report.backupDir !== undefined) {
    lines.push(
      report.dryRun
        ? `Would back up the legacy files to ${report.backupDir}`
        : `Legacy files backed up to ${report.backupDir}`,
    );
  }
  if (report.dryRun && report.transcripts.length > 0) {
    lines.push("Would create:");
    for (const transcript of report.transcripts) lines.push(`  ${transcript}`);
  }
  for (const store of report.stores)
    lines.push(`${report.dryRun ? "Would write" : "Wrote"} ${store}`);
  if (report.dryRun) lines.push(style.bold("Dry run: nothing was written."));
  else if (
    report.found > 0 &&
    report.migrated === 0 &&
    report.conflicts === 0 &&
    report.errors === 0
  ) {
    lines.push("Nothing to do: every session was migrated already.");
  }
  if (report.conflicts + report.errors > 0) {
    lines.push(
      style.red(
        "Some sessions were not migrated; see the notes above, fix them and run the migration again (migrated sessions are not touched twice).",
      ),
    );
  }
  return lines.join("\n");
}

/**
 * `clawkeep migrate <workspace>`: legacy per-session files into the stores the gateway reads
 * (`session.store` of the config, unless `--store`; unmapped sessions go to `--agent`, else the
 * configured default agent). Exit 0 when every session was migrated or was there already, 1 when
 * any conflicted or failed, 2 when the folder is not a legacy workspace.
 */
export async function runMigrate(
  workspace: string,
  flags: MigrateFlags,
  context: CommandContext,
): Promise<CommandResult<MigrationReport>> {
  const { migrateLegacyWorkspace, NOT_A_LEGACY_WORKSPACE } = await import("@clawkeep/maintenance");
  const config = await context.loadConfig();
  let report: MigrationReport;
  try {
    report = await migrateLegacyWorkspace(expandHomePath(workspace, { env: context.env }), {
      config,
      stateDir: context.stateDir,
      ...storeSelectionOptions(flags, context),
      dryRun: flags.dryRun,
      backup: flags.backup,
      onProgress: (progress) => {
        const file = progress.file === undefined ? "" : ` ${progress.file}`;
        context.progress(`${PHASES[progress.phase]} ${progress.done}/${progress.total}${file}`);
      },
    });
  } catch (error) {
    // A folder that is not a legacy workspace is a wrong argument, not a failed migration.
    if (
      SessionsError.hasCode(error, "INVALID_PARAMS") &&
      error.details?.reason === NOT_A_LEGACY_WORKSPACE
    ) {
      throw usageError(error.message);
    }
    throw error;
  }
  context.endProgress();
  return {
    data: report,
    exitCode: report.conflicts + report.errors > 0 ? EXIT_CODES.FAILURE : EXIT_CODES.OK,
    render: (style) => render(report, style),
  };
}
