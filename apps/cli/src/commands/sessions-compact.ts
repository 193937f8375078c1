import type { SessionsCompactResult } from "@clawkeep/schema";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import {
  openSessionsCaller,
  qualifyKey,
  type SessionsConnectionFlags,
} from "../sessions-caller.ts";

export interface SessionsCompactFlags {
  maxLines: number | undefined;
}

/** `clawkeep sessions compact <key> [--max-lines n]`: the `sessions.compact` method. */
export async function runSessionsCompact(
  key: string,
  flags: SessionsCompactFlags,
  connection: SessionsConnectionFlags,
  context: CommandContext,
): Promise<CommandResult<SessionsCompactResult & { via: string }>> {
  const caller = await openSessionsCaller(connection, context);
  try {
    const result = await caller.call<SessionsCompactResult>("sessions.compact", {
      key: qualifyKey(key, connection.agent),
      maxLines: flags.maxLines,
    });
    return {
      data: { via: caller.via, ...result },
      exitCode: EXIT_CODES.OK,
      render: () => {
        if (result.compacted)
          return `Compacted ${result.key}: kept ${result.kept} entries; the original is ${result.archived}`;
        if ("reason" in result) return `Not compacted: ${result.reason}`;
        return `Not compacted: ${result.kept} entries is within the limit`;
      },
    };
  } finally {
    await caller.close();
  }
}
