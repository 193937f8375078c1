import type { MaintenanceReport, MaintenanceRules } from "@clawkeep/maintenance";
import { parseDurationMs } from "@clawkeep/store";
import {
  type CommandContext,
  type CommandResult,
  cancelledResult,
  confirmAction,
} from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { formatBytes, formatTable, formatTime, type OutputStyle } from "../output-style.ts";
import { storeSelectionOptions } from "../store-selection.ts";
import { usageError } from "../usage-error.ts";

export interface MaintenanceFlags {
  enforce: boolean;
  activeKeys: string[];
  pruneAfter: string | undefined;
  maxEntries: number | undefined;
  agent: string | undefined;
  store: string | undefined;
}

function formatDuration(ms: number): string {
  const days = ms / 86_400_000;
  return Number.isInteger(days) ? `${days}d` : `${Math.round(ms / 3_600_000)}h`;
}

/**
 * The report for stdout; with `preview`, the dry run shown before the confirmation question,
 * without the hint to run `--enforce` (which is what is being asked).
 */
function render(report: MaintenanceReport, style: OutputStyle, preview = false): string {
  const lines: string[] = [];
  const { rules } = report;
  lines.push(
    `Rules: prune after ${formatDuration(rules.pruneAfterMs)}, keep at most ${rules.maxEntries} entries, rotate above ${formatBytes(rules.rotateBytes)}`,
  );
  for (const store of report.stores) {
    if (store.error !== undefined)
      lines.push(style.red(`${store.agentId}: skipped: ${store.error}`));
    else if (!report.enforce && store.rotate) {
      lines.push(`${store.agentId}: would rotate ${store.storePath}`);
    } else if (store.rotatedTo !== undefined) {
      lines.push(`${store.agentId}: rotated ${store.storePath} (backup ${store.rotatedTo})`);
    } else if (store.rotate) {
      lines.push(
        `${store.agentId}: not rotated: ${store.storePath} was no longer above the limit under the lock`,
      );
    }
  }
  for (const warning of report.warnings) lines.push(style.yellow(`warning: ${warning}`));
  if (report.removals.length === 0) {
    lines.push("Nothing to remove.");
    return lines.join("\n");
  }
  lines.push(
    "",
    formatTable(
      ["KEY", "WHY", "UPDATED", "TRANSCRIPT"],
      report.removals.map((removal) => [
        removal.key,
        removal.reason === "stale" ? "older than the prune age" : "beyond the entry cap",
        formatTime(removal.updatedAt),
        removal.archived ?? removal.transcript ?? "-",
      ]),
      style,
    ),
    "",
  );
  if (report.enforce) {
    lines.push(
      `Removed ${report.removals.length} ${report.removals.length === 1 ? "entry" : "entries"}; transcripts archived as .deleted.<time>.`,
    );
  } else {
    lines.push(
      style.bold(
        `Dry run: ${report.removals.length} ${report.removals.length === 1 ? "entry" : "entries"} would be removed.`,
      ),
    );
    if (!preview) {
      lines.push(
        "Run `clawkeep maintenance --enforce` to remove them (main sessions and --active-key sessions are kept).",
      );
    }
  }
  return lines.join("\n");
}

/**
 * `clawkeep maintenance [--enforce]`: the store's maintenance rules on demand, a dry run unless
 * `--enforce` (which asks first, or takes `--yes`). Exit 1 when a store could not be maintained.
 */
export async function runMaintenanceCommand(
  flags: MaintenanceFlags,
  context: CommandContext,
): Promise<CommandResult<MaintenanceReport & { cancelled?: true }>> {
  const rules: Partial<MaintenanceRules> = {};
  if (flags.pruneAfter !== undefined) {
    const ms = parseDurationMs(flags.pruneAfter, "d");
    if (ms === undefined)
      throw usageError(
        `--prune-after must be a duration such as 30d or 12h, got ${JSON.stringify(flags.pruneAfter)}`,
      );
    rules.pruneAfterMs = ms;
  }
  if (flags.maxEntries !== undefined) rules.maxEntries = flags.maxEntries;
  const { runMaintenance } = await import("@clawkeep/maintenance");
  const options = {
    stateDir: context.stateDir,
    config: await context.loadConfig(),
    activeKeys: flags.activeKeys,
    rules,
    ...storeSelectionOptions(flags, context),
  };
  let report = await runMaintenance(options);
  if (flags.enforce) {
    const work = report.removals.length + report.stores.filter((store) => store.rotate).length;
    if (work > 0) {
      const rotations = report.stores.filter((store) => store.rotate).length;
      const question =
        report.removals.length > 0
          ? `Remove ${report.removals.length} session entries${rotations > 0 ? ` and rotate ${rotations} store(s)` : ""} in ${context.stateDir}?`
          : `Rotate ${rotations} store(s) in ${context.stateDir}?`;
      const confirmed = await confirmAction(context, question, {
        preview: render(report, context.stderrStyle, true),
      });
      if (!confirmed) return cancelledResult(report);
      report = await runMaintenance({ ...options, enforce: true });
    } else {
      report = { ...report, enforce: true };
    }
  }
  return {
    data: report,
    exitCode: report.errors > 0 ? EXIT_CODES.FAILURE : EXIT_CODES.OK,
    render: (style) => render(report, style),
  };
}
