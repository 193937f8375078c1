/** The entry fields a title is derived from. */
export interface SessionTitleSource {
  displayName?: string | null | undefined;
  subject?: string | null | undefined;
  sessionId?: string | null | undefined;
  updatedAt?: number | null | undefined;
}

const MAX_TITLE_LENGTH = 60;
/** A word-boundary cut is taken only when it keeps more than this many characters. */
const MIN_WORD_CUT = 36;

function truncateTitle(text: string): string {
  if (text.length <= MAX_TITLE_LENGTH) return text;
  let cut = text.slice(0, MAX_TITLE_LENGTH - 1);
  const lastSpace = cut.lastIndexOf(" ");
  if (lastSpace > MIN_WORD_CUT) cut = cut.slice(0, lastSpace);
  return `${cut}…`;
}

function formatDay(epochMs: number): string | undefined {
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 10);
}

/**
 * A title for a session, in order: the trimmed `displayName`, the trimmed `subject`, the first user
 * message (whitespace collapsed, at most 60 characters, cut at a word when that keeps more than 36,
 * then `…`), or the first 8 characters of the session id with ` (YYYY-MM-DD)` (UTC) when
 * `updatedAt` is positive. Undefined without an entry or a session id.
 */
export function deriveSessionTitle(
  entry: SessionTitleSource | null | undefined,
  firstUserMessage?: string | null,
): string | undefined {
  if (entry === undefined || entry === null) return undefined;
  const displayName = entry.displayName?.trim();
  if (displayName) return displayName;
  const subject = entry.subject?.trim();
  if (subject) return subject;
  const message = firstUserMessage?.replace(/\s+/g, " ").trim();
  if (message) return truncateTitle(message);
  const sessionId = entry.sessionId?.trim();
  if (!sessionId) return undefined;
  const prefix = sessionId.slice(0, 8);
  const updatedAt = entry.updatedAt;
  const day = typeof updatedAt === "number" && updatedAt > 0 ? formatDay(updatedAt) : undefined;
  return day === undefined ? prefix : `${prefix} (${day})`;
}
