import { SESSION_LABEL_MAX_LENGTH } from "@clawkeep/schema";

export type ParseSessionLabelResult = { ok: true; label: string } | { ok: false; message: string };

/**
 * Checks a label given by a client: a string, trimmed, not empty, at most 64 characters.
 * Messages are openclaw's (`invalid label: empty`, …).
 */
export function parseSessionLabel(raw: unknown): ParseSessionLabelResult {
  if (typeof raw !== "string") return { ok: false, message: "invalid label: must be a string" };
  const label = raw.trim();
  if (label === "") return { ok: false, message: "invalid label: empty" };
  if (label.length > SESSION_LABEL_MAX_LENGTH) {
    return { ok: false, message: `invalid label: too long (max ${SESSION_LABEL_MAX_LENGTH})` };
  }
  return { ok: true, label };
}
