/** The error codes of the gateway protocol (v3). Handlers never send any other code. */
export const ERROR_CODES = {
  /** The gateway has no linked channel account for the request. */
  NOT_LINKED: "NOT_LINKED",
  /** The device has no identity, or is not paired (`details.requestId` names the request). */
  NOT_PAIRED: "NOT_PAIRED",
  /** An agent run did not finish in time. */
  AGENT_TIMEOUT: "AGENT_TIMEOUT",
  /** The frame, the params or the request itself are not acceptable. */
  INVALID_REQUEST: "INVALID_REQUEST",
  /** The gateway cannot serve the request now (a running session, a failing handler). */
  UNAVAILABLE: "UNAVAILABLE",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
