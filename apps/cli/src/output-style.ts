/** How human output is written: with or without ANSI colours. */
export interface OutputStyle {
  color: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
}

function wrap(open: number, close: number, enabled: boolean): (text: string) => string {
  return enabled ? (text) => `\u001b[${open}m${text}\u001b[${close}m` : (text) => text;
}

/** A style with colours on or off. */
export function createOutputStyle(color: boolean): OutputStyle {
  return {
    color,
    bold: wrap(1, 22, color),
    dim: wrap(2, 22, color),
    red: wrap(31, 39, color),
    yellow: wrap(33, 39, color),
    green: wrap(32, 39, color),
  };
}

/**
 * Colours only for a terminal, and never when `NO_COLOR` is set to a non-empty value
 * (no-color.org); `FORCE_COLOR` set to a non-empty value other than `0` turns them on anyway.
 */
export function shouldUseColor(isTty: boolean, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "" && env.FORCE_COLOR !== "0")
    return true;
  return isTty;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are what is removed.
const ANSI = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return [...text.replace(ANSI, "")].length;
}

/** A plain text table: a header row, then one row per item, columns padded to the widest cell. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  style: OutputStyle,
): string {
  const widths = headers.map((header, column) =>
    Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[column] ?? ""))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1
          ? cell
          : `${cell}${" ".repeat((widths[column] ?? 0) - visibleLength(cell))}`,
      )
      .join("  ")
      .trimEnd();
  return [style.bold(line(headers)), ...rows.map(line)].join("\n");
}

/** `2026-02-09 14:04 UTC` for an epoch-ms time, `-` for none. */
export function formatTime(ms: number | null | undefined): string {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "-";
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** `1.5 KiB`-style sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Cuts text to `max` characters with an ellipsis, on one line. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}
