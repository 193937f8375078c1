import type {
  GatewaySessionRow,
  SessionEntry,
  SessionPreview,
  SessionsListResult,
  SessionsPreviewResult,
  SessionsResolveResult,
} from "@clawkeep/schema";
import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { formatTime, type OutputStyle } from "../output-style.ts";
import {
  openSessionsCaller,
  qualifyKey,
  type SessionsCaller,
  type SessionsConnectionFlags,
} from "../sessions-caller.ts";
import { renderPreview } from "./sessions-preview.ts";

export interface SessionsShowFlags {
  messages: number | undefined;
}

export interface SessionsShowData {
  via: string;
  key: string;
  /** The row `sessions.list` shows for it. */
  session: GatewaySessionRow | null;
  /** The stored entry as it is on disk (files only). */
  entry?: SessionEntry;
  storePath?: string;
  transcriptPath?: string | null;
  preview: SessionPreview | null;
}

/** The stored entry and its transcript, read from the files. */
async function readStored(
  caller: SessionsCaller,
  key: string,
): Promise<Pick<SessionsShowData, "entry" | "storePath" | "transcriptPath">> {
  if (caller.files === undefined) return {};
  const { findStoreEntry, resolveGatewaySessionStoreTarget } = await import(
    "@clawkeep/session-utils"
  );
  const { loadSessionStore } = await import("@clawkeep/store");
  const { findTranscriptFile } = await import("@clawkeep/transcripts");
  const target = resolveGatewaySessionStoreTarget({
    cfg: caller.files.config,
    key,
    stateDir: caller.files.stateDir,
  });
  const found = findStoreEntry(await loadSessionStore(target.storePath), target);
  if (found === undefined) return { storePath: target.storePath };
  let transcriptPath: string | null = null;
  try {
    transcriptPath = await findTranscriptFile({
      sessionId: found.entry.sessionId,
      storePath: target.storePath,
      agentId: target.agentId,
      ...(typeof found.entry.sessionFile === "string" && { sessionFile: found.entry.sessionFile }),
    });
  } catch {
    // An entry with an unusable session id has no transcript to show; the entry is still shown.
  }
  return { entry: found.entry, storePath: target.storePath, transcriptPath };
}

function render(data: SessionsShowData, style: OutputStyle): string {
  const lines = [style.bold(data.key)];
  const row = data.session;
  const field = (name: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== "")
      lines.push(`  ${name.padEnd(14)} ${String(value)}`);
  };
  field("session id", row?.sessionId ?? data.entry?.sessionId);
  field("kind", row?.kind);
  field("updated", formatTime(row?.updatedAt ?? data.entry?.updatedAt));
  field("label", row?.label);
  field("title", row?.derivedTitle ?? row?.displayName);
  field("model", row === null ? undefined : `${row.modelProvider ?? "-"}/${row.model ?? "-"}`);
  field("tokens", row?.totalTokens);
  field("thinking", row?.thinkingLevel);
  field("store", data.storePath);
  if (data.transcriptPath !== undefined) field("transcript", data.transcriptPath ?? "(none)");
  if (data.preview !== null && data.preview.items.length > 0) {
    lines.push("", ...renderPreview(data.preview, style).slice(1));
  }
  return lines.join("\n");
}

/** `clawkeep sessions show <key>`: one session's row, entry, transcript and last messages. */
export async function runSessionsShow(
  key: string,
  flags: SessionsShowFlags,
  connection: SessionsConnectionFlags,
  context: CommandContext,
): Promise<CommandResult<SessionsShowData>> {
  const caller = await openSessionsCaller(connection, context);
  try {
    const { key: canonical } = await caller.call<SessionsResolveResult>("sessions.resolve", {
      key: qualifyKey(key, connection.agent),
    });
    const listed = await caller.call<SessionsListResult>("sessions.list", {
      search: canonical,
      includeGlobal: true,
      includeUnknown: true,
      includeDerivedTitles: true,
    });
    const session = listed.sessions.find((row) => row.key === canonical) ?? null;
    const previews = await caller.call<SessionsPreviewResult>("sessions.preview", {
      keys: [canonical],
      limit: flags.messages ?? 5,
    });
    const data: SessionsShowData = {
      via: caller.via,
      key: canonical,
      session,
      ...(await readStored(caller, canonical)),
      preview: previews.previews[0] ?? null,
    };
    return { data, exitCode: EXIT_CODES.OK, render: (style) => render(data, style) };
  } finally {
    await caller.close();
  }
}
