import type { SessionPreview, SessionsPreviewResult } from "@clawkeep/schema";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import type { OutputStyle } from "../output-style.ts";
import {
  openSessionsCaller,
  qualifyKey,
  type SessionsConnectionFlags,
} from "../sessions-caller.ts";

export interface SessionsPreviewFlags {
  keys: string[];
  limit: number | undefined;
  maxChars: number | undefined;
}

/** The messages of one preview, one line each. */
export function renderPreview(preview: SessionPreview, style: OutputStyle): string[] {
  const lines = [`${style.bold(preview.key)} ${style.dim(`(${preview.status})`)}`];
  for (const item of preview.items)
    lines.push(`  ${style.dim(`${item.role}:`)} ${item.text.replace(/\s+/g, " ")}`);
  return lines;
}

/** `clawkeep sessions preview <keys...>`: the `sessions.preview` method. Exit 1 when a key is missing. */
export async function runSessionsPreview(
  flags: SessionsPreviewFlags,
  connection: SessionsConnectionFlags,
  context: CommandContext,
): Promise<CommandResult<SessionsPreviewResult & { via: string }>> {
  const caller = await openSessionsCaller(connection, context);
  try {
    const result = await caller.call<SessionsPreviewResult>("sessions.preview", {
      keys: flags.keys.map((key) => qualifyKey(key, connection.agent)),
      limit: flags.limit,
      maxChars: flags.maxChars,
    });
    const failed = result.previews.some(
      (preview) => preview.status === "missing" || preview.status === "error",
    );
    return {
      data: { via: caller.via, ...result },
      exitCode: failed ? EXIT_CODES.FAILURE : EXIT_CODES.OK,
      render: (style) =>
        result.previews.flatMap((preview) => renderPreview(preview, style)).join("\n"),
    };
  } finally {
    await caller.close();
  }
}
