import { z } from "zod";
import { integer, nonEmptyString } from "./primitives.ts";

/** The `error` of a failed response. `code` is one of {@link ERROR_CODES} when clawkeep sends it. */
export const ErrorShapeSchema = z.strictObject({
  code: nonEmptyString(),
  message: nonEmptyString(),
  details: z.unknown().optional(),
  retryable: z.boolean().optional(),
  retryAfterMs: integer(0).optional(),
});
export type ErrorShape = z.infer<typeof ErrorShapeSchema>;

/** Versions of the gateway's presence and health state, carried by broadcast events. */
export const StateVersionSchema = z.strictObject({
  presence: integer(0),
  health: integer(0),
});
export type StateVersion = z.infer<typeof StateVersionSchema>;

/** A client's request. The gateway hands the handler `params ?? {}`. */
export const RequestFrameSchema = z.strictObject({
  type: z.literal("req"),
  id: nonEmptyString(),
  method: nonEmptyString(),
  params: z.unknown().optional(),
});
export type RequestFrame = z.infer<typeof RequestFrameSchema>;

/**
 * The answer to a request, echoing its `id`. On success `payload` is set and `error` absent; on
 * failure the reverse.
 */
export const ResponseFrameSchema = z.strictObject({
  type: z.literal("res"),
  id: nonEmptyString(),
  ok: z.boolean(),
  payload: z.unknown().optional(),
  error: ErrorShapeSchema.optional(),
});
export type ResponseFrame = z.infer<typeof ResponseFrameSchema>;

/**
 * A server event. Broadcast events carry the gateway-wide `seq`; `connect.challenge` and
 * `sessions.changed` (sent to subscribers only) carry none.
 */
export const EventFrameSchema = z.strictObject({
  type: z.literal("event"),
  event: nonEmptyString(),
  payload: z.unknown().optional(),
  seq: integer(0).optional(),
  stateVersion: StateVersionSchema.optional(),
});
export type EventFrame = z.infer<typeof EventFrameSchema>;

/** Any frame, told apart by `type`. */
export const GatewayFrameSchema = z.discriminatedUnion("type", [
  RequestFrameSchema,
  ResponseFrameSchema,
  EventFrameSchema,
]);
export type GatewayFrame = z.infer<typeof GatewayFrameSchema>;
