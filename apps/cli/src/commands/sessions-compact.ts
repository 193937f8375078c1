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

/**
 * `clawkeep sessions compact <key> [--max-lines n]`: the `sessions.compact` method. Exit 1 when
 * there is no such session.
 */
export async function runSessionsCompact(
  key: string,
  flags: SessionsCompactFlags,
  connection: SessionsConnectionFlags,
  context: CommandContext,
): Promise<CommandResult<SessionsCompactResult & { via: string }>> {
  const caller = await openSessionsCaller(connection, context);
  try {
    const qualified = qualifyKey(key, connection.agent);
    const result = await caller.call<SessionsCompactResult>("sessions.compact", {
      key: qualified,
      maxLines: flags.maxLines,
    });
    if (!result.compacted && "reason" in result && result.reason === "no sessionId") {
      // The method answers a missing session like an entry without a session id; resolving the
      // key tells them apart and fails with "No session found: <key>", as show and delete do.
      await caller.call("sessions.resolve", { key: qualified });
    }
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
