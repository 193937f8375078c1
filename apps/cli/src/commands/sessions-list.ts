import type { SessionsListResult } from "@clawkeep/schema";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { formatTable, formatTime, type OutputStyle, truncate } from "../output-style.ts";
import { openSessionsCaller, type SessionsConnectionFlags } from "../sessions-caller.ts";

export interface SessionsListFlags {
  limit: number | undefined;
  offset: number | undefined;
  search: string | undefined;
  label: string | undefined;
  spawnedBy: string | undefined;
  activeMinutes: number | undefined;
  includeGlobal: boolean | undefined;
  includeUnknown: boolean | undefined;
  includeDerivedTitles: boolean | undefined;
  includeLastMessage: boolean | undefined;
}

function render(
  result: SessionsListResult,
  style: OutputStyle,
  options: { lastMessage: boolean },
): string {
  const lines: string[] = [];
  for (const warning of result.warnings ?? [])
    lines.push(style.yellow(`warning: ${warning.message}`));
  if (result.sessions.length === 0) {
    lines.push("No sessions.");
    return lines.join("\n");
  }
  const headers = ["KEY", "KIND", "UPDATED", "TOKENS", "TITLE"];
  if (options.lastMessage) headers.push("LAST MESSAGE");
  lines.push(
    formatTable(
      headers,
      result.sessions.map((row) => {
        const title = row.label ?? row.displayName ?? row.derivedTitle;
        const cells = [row.key, row.kind, formatTime(row.updatedAt), String(row.totalTokens ?? 0)];
        if (!options.lastMessage) {
          return [...cells, truncate(title ?? row.lastMessagePreview ?? "", 60)];
        }
        return [...cells, truncate(title ?? "-", 40), truncate(row.lastMessagePreview ?? "-", 60)];
      }),
      style,
    ),
  );
  const total = result.total ?? result.count;
  const more =
    result.nextOffset === null || result.nextOffset === undefined
      ? ""
      : ` (next page: --offset ${result.nextOffset})`;
  lines.push(style.dim(`${result.count} of ${total} sessions${more}`));
  return lines.join("\n");
}

/** `clawkeep sessions list`: the `sessions.list` method, as a table or JSON. */
export async function runSessionsList(
  flags: SessionsListFlags,
  connection: SessionsConnectionFlags,
  context: CommandContext,
): Promise<CommandResult<SessionsListResult & { via: string }>> {
  const caller = await openSessionsCaller(connection, context);
  try {
    const result = await caller.call<SessionsListResult>("sessions.list", {
      ...flags,
      agentId: connection.agent,
    });
    return {
      data: { via: caller.via, ...result },
      exitCode: EXIT_CODES.OK,
      render: (style) => render(result, style, { lastMessage: flags.includeLastMessage === true }),
    };
  } finally {
    await caller.close();
  }
}
