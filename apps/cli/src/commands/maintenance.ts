import type { MaintenanceReport, MaintenanceRules } from "@clawkeep/maintenance";
import { expandHomePath, parseDurationMs } from "@clawkeep/store";
import { type CommandContext, type CommandResult, confirmAction } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { formatBytes, formatTable, formatTime, type OutputStyle } from "../output-style.ts";
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

function render(report: MaintenanceReport, style: OutputStyle): string {
  const lines: string[] = [];
  const { rules } = report;
  lines.push(
    `Rules: prune after ${formatDuration(rules.pruneAfterMs)}, keep at most ${rules.maxEntries} entries, rotate above ${formatBytes(rules.rotateBytes)}`,
  );
  for (const store of report.stores) {
    if (store.error !== undefined)
      lines.push(style.red(`${store.agentId}: skipped: ${store.error}`));
    else if (store.rotate) {
      lines.push(
        `${store.agentId}: ${report.enforce ? "rotated" : "would rotate"} ${store.storePath}`,
      );
    }
  }
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
      "Run `clawkeep maintenance --enforce` to remove them (main sessions and --active-key sessions are kept).",
    );
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
): Promise<CommandResult<MaintenanceReport>> {
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
    ...(flags.agent !== undefined && { agentId: flags.agent }),
    ...(flags.store !== undefined && {
      storePath: expandHomePath(flags.store, { env: context.env }),
    }),
  };
  let report = await runMaintenance(options);
  if (flags.enforce) {
    const work = report.removals.length + report.stores.filter((store) => store.rotate).length;
    if (work > 0) {
      await confirmAction(
        context,
        `Remove ${report.removals.length} session entries from ${context.stateDir}?`,
      );
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
