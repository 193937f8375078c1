import type { SessionsDeleteResult } from "@clawkeep/schema";
import {
  type CommandContext,
  type CommandResult,
  cancelledResult,
  confirmAction,
} from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import {
  openSessionsCaller,
  qualifyKey,
  type SessionsConnectionFlags,
} from "../sessions-caller.ts";

export interface SessionsDeleteFlags {
  deleteTranscript: boolean;
}

/**
 * `clawkeep sessions delete <key>`: asks first (or takes `--yes`), then `sessions.delete`. Exit 1
 * when there was no such session.
 */
export async function runSessionsDelete(
  key: string,
  flags: SessionsDeleteFlags,
  connection: SessionsConnectionFlags,
  context: CommandContext,
): Promise<CommandResult<(SessionsDeleteResult & { via: string }) | { cancelled: true }>> {
  const qualified = qualifyKey(key, connection.agent);
  const confirmed = await confirmAction(
    context,
    `Delete session ${qualified}${flags.deleteTranscript ? " and archive its transcript" : ""}?`,
  );
  if (!confirmed) return cancelledResult({});
  const caller = await openSessionsCaller(connection, context);
  try {
    const result = await caller.call<SessionsDeleteResult>("sessions.delete", {
      key: qualified,
      deleteTranscript: flags.deleteTranscript,
    });
    return {
      data: { via: caller.via, ...result },
      exitCode: result.deleted ? EXIT_CODES.OK : EXIT_CODES.FAILURE,
      render: () => {
        if (!result.deleted) return `No session ${result.key}: nothing deleted.`;
        const archived =
          result.archived.length === 0
            ? ""
            : `; transcript archived as ${result.archived.join(", ")}`;
        return `Deleted ${result.key}${archived}`;
      },
    };
  } finally {
    await caller.close();
  }
}
