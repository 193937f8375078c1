/** Largest frame the gateway accepts (8 MiB), announced in `hello-ok.policy.maxPayload`. */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

/** Most bytes the gateway queues for one slow client (16 MiB) before dropping it. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** How often the gateway sends a `tick` event; a client gives up after twice this. */
export const TICK_INTERVAL_MS = 30_000;

/** How long a socket may stay open without a valid `connect`. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Keys read by one `sessions.preview`; more are ignored, not rejected. */
export const PREVIEW_MAX_KEYS = 64;

/** Smallest `maxChars` a `sessions.preview` accepts. */
export const PREVIEW_MIN_MAX_CHARS = 20;
