import type { DoctorProblem, DoctorReport } from "@clawkeep/maintenance";
import {
  type CommandContext,
  type CommandResult,
  cancelledResult,
  confirmAction,
} from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { formatBytes, formatTable, type OutputStyle } from "../output-style.ts";
import { storeSelectionOptions } from "../store-selection.ts";

export interface DoctorFlags {
  fix: boolean;
  /** Fail (exit 1) on warnings too, not only on errors. */
  strict: boolean;
  agent: string | undefined;
  store: string | undefined;
}

function severityLabel(problem: DoctorProblem, style: OutputStyle): string {
  if (problem.fixed) return style.green("fixed");
  if (problem.severity === "error") return style.red("error");
  if (problem.severity === "warning") return style.yellow("warning");
  return style.dim("info");
}

/** The repairs `--fix` would make, one line each, for the confirmation question. */
function renderRepairs(report: DoctorReport, style: OutputStyle): string {
  const lines = ["To repair:"];
  for (const problem of report.problems.filter((candidate) => candidate.fixable)) {
    lines.push(`  ${style.red(problem.code)}: ${problem.path}`, `    ${problem.message}`);
  }
  return lines.join("\n");
}

function render(report: DoctorReport, style: OutputStyle): string {
  const lines: string[] = [];
  if (report.stores.length === 0) {
    return `No agent stores under ${report.stateDir}/agents: nothing to check.`;
  }
  lines.push(
    formatTable(
      ["AGENT", "ENTRIES", "TRANSCRIPTS", "ARCHIVES", "STORE"],
      report.stores.map((store) => [
        store.agentId,
        store.readable ? String(store.entries) : style.red("unreadable"),
        String(store.transcripts),
        `${store.archives} (${formatBytes(store.archiveBytes)})`,
        store.exists ? store.storePath : `${store.storePath} ${style.dim("(not created yet)")}`,
      ]),
      style,
    ),
    "",
  );
  const shown = report.problems.filter(
    (problem) => problem.severity !== "info" || problem.code === "held-lock",
  );
  for (const problem of shown) {
    const where = problem.key === undefined ? problem.path : `${problem.path} [${problem.key}]`;
    lines.push(`${severityLabel(problem, style)} ${problem.code}: ${where}`);
    lines.push(`  ${problem.message}`);
  }
  if (shown.length > 0) lines.push("");
  if (report.archives.length > 0) {
    lines.push("Archives:");
    for (const archive of report.archives) {
      lines.push(
        `  ${formatBytes(archive.bytes).padStart(10)}  ${archive.kind.padEnd(13)} ${archive.path}`,
      );
    }
    lines.push("");
  }
  for (const action of report.actions) {
    const target = action.target === undefined ? "" : ` → ${action.target}`;
    lines.push(
      `${action.ok ? style.green("done") : style.red("failed")} ${action.code}: ${action.path}${target} (${action.message})`,
    );
  }
  if (report.actions.length > 0) lines.push("");
  const fixable = report.problems.filter((problem) => problem.fixable && !problem.fixed).length;
  const fixed = report.problems.filter((problem) => problem.fixed).length;
  const summary = `${report.errors} errors, ${report.warnings} warnings${fixed > 0 ? `, ${fixed} repaired` : ""}`;
  lines.push(report.ok ? style.green(`All good (${summary}).`) : summary);
  if (!report.fix && fixable > 0)
    lines.push(`Run \`clawkeep doctor --fix\` to repair ${fixable} of them.`);
  return lines.join("\n");
}

/**
 * `clawkeep doctor [--fix] [--strict]`: checks first; with `--fix` and something to repair, asks
 * (or takes `--yes`) and repairs. Exit 0 when no error is left (with `--strict`: no error and no
 * warning), 1 otherwise. Warnings alone (an orphan transcript, a session without a reply yet)
 * describe states a healthy openclaw install has too, so they do not fail scripts by default.
 */
export async function runDoctorCommand(
  flags: DoctorFlags,
  context: CommandContext,
): Promise<CommandResult<DoctorReport & { cancelled?: true }>> {
  const { runDoctor } = await import("@clawkeep/maintenance");
  const config = await context.loadConfig();
  const options = {
    stateDir: context.stateDir,
    config,
    ...storeSelectionOptions(flags, context),
  };
  let report = await runDoctor(options);
  if (flags.fix) {
    const repairs = report.problems.filter((problem) => problem.fixable).length;
    if (repairs > 0) {
      const confirmed = await confirmAction(
        context,
        `Repair ${repairs} problem(s) in ${context.stateDir}?`,
        { preview: renderRepairs(report, context.stderrStyle) },
      );
      if (!confirmed) return cancelledResult(report);
      report = await runDoctor({ ...options, fix: true });
    } else {
      report = { ...report, fix: true };
    }
  }
  return {
    data: report,
    exitCode:
      report.errors === 0 && (!flags.strict || report.warnings === 0)
        ? EXIT_CODES.OK
        : EXIT_CODES.FAILURE,
    render: (style) => render(report, style),
  };
}
