import type { SessionsResetResult } from "@clawkeep/schema";
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

/** `clawkeep sessions reset <key>`: asks first (or takes `--yes`), then `sessions.reset`. */
export async function runSessionsReset(
  key: string,
  connection: SessionsConnectionFlags,
  context: CommandContext,
): Promise<CommandResult<(SessionsResetResult & { via: string }) | { cancelled: true }>> {
  const qualified = qualifyKey(key, connection.agent);
  const confirmed = await confirmAction(
    context,
    `Reset session ${qualified} (it starts afresh with a new session id)?`,
  );
  if (!confirmed) return cancelledResult({});
  const caller = await openSessionsCaller(connection, context);
  try {
    const result = await caller.call<SessionsResetResult>("sessions.reset", { key: qualified });
    return {
      data: { via: caller.via, ...result },
      exitCode: EXIT_CODES.OK,
      render: () => `Reset ${result.key}: new session ${result.entry.sessionId}`,
    };
  } finally {
    await caller.close();
  }
}
