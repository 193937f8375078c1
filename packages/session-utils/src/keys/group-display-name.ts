export interface GroupDisplayNameParams {
  /** Channel or provider name (`discord`); lower-cased. */
  provider?: string | null | undefined;
  subject?: string | null | undefined;
  /** A channel-style name such as `#general`. */
  groupChannel?: string | null | undefined;
  /** The workspace or server the group belongs to. */
  space?: string | null | undefined;
  /** The raw group id. */
  id?: string | null | undefined;
  /** The session key, the last resort. */
  key: string;
}

/** Raw ids longer than this are shown as `abcdef...wxyz`. */
const MAX_RAW_ID_LENGTH = 14;

function clean(value: string | null | undefined): string {
  return (value ?? "").trim();
}

function shortenRawId(value: string): string {
  if (value.length <= MAX_RAW_ID_LENGTH) return value;
  return `${value.slice(0, 6)}...${value.slice(-4)}`;
}

function slugify(value: string): string {
  return value
    .toLowerCase()
    .replace(/\s+/g, "-")
    .replace(/[^a-z0-9#@._+-]/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
}

/**
 * A readable name for a group session, `<provider>:<token>`. The token is `space#channel`, else the
 * channel name, subject or space, else the (shortened) id, else the key; it is slugified, a leading
 * `#` is dropped unless it came from a channel name, and `g-` is prefixed unless the token starts
 * with `@` or `#`, starts with `g-` already, or contains `#`.
 * `{discord, groupChannel: "#general", space: "friends-of-openclaw"}` →
 * `discord:friends-of-openclaw#general`; `{whatsapp, subject: "Family Chat"}` →
 * `whatsapp:g-family-chat`.
 */
export function buildGroupDisplayName(params: GroupDisplayNameParams): string {
  const provider = clean(params.provider).toLowerCase() || "group";
  const groupChannel = clean(params.groupChannel);
  const space = clean(params.space);
  const subject = clean(params.subject);
  const detail =
    groupChannel !== "" && space !== ""
      ? `${space}#${groupChannel.replace(/^#+/, "")}`
      : groupChannel || subject || space;
  let token = slugify(detail);
  if (token === "") token = slugify(shortenRawId(clean(params.id)));
  if (token === "") token = slugify(shortenRawId(clean(params.key)));
  if (groupChannel === "") token = token.replace(/^#+/, "");
  if (token === "") return `${provider}:group`;
  const keepAsIs =
    token.startsWith("@") || token.startsWith("#") || token.startsWith("g-") || token.includes("#");
  return `${provider}:${keepAsIs ? token : `g-${token}`}`;
}
