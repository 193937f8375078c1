import type { SessionsResolveResult } from "@clawkeep/schema";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import {
  openSessionsCaller,
  qualifyKey,
  type SessionsConnectionFlags,
} from "../sessions-caller.ts";

export interface SessionsResolveFlags {
  key: string | undefined;
  sessionId: string | undefined;
  label: string | undefined;
}

/** `clawkeep sessions resolve [key] [--session-id id] [--label l]`: the canonical key. */
export async function runSessionsResolve(
  flags: SessionsResolveFlags,
  connection: SessionsConnectionFlags,
  context: CommandContext,
): Promise<CommandResult<SessionsResolveResult & { via: string }>> {
  const caller = await openSessionsCaller(connection, context);
  try {
    const result = await caller.call<SessionsResolveResult>("sessions.resolve", {
      key: flags.key === undefined ? undefined : qualifyKey(flags.key, connection.agent),
      sessionId: flags.sessionId,
      label: flags.label,
      agentId: flags.key === undefined ? connection.agent : undefined,
    });
    return {
      data: { via: caller.via, ...result },
      exitCode: EXIT_CODES.OK,
      render: () => result.key,
    };
  } finally {
    await caller.close();
  }
}
