export {
  authorizeMethod,
  type MethodAuthorizationSubject,
  type MethodScope,
  OPERATOR_SCOPES,
} from "./authorize-method.ts";
export { DEFAULT_MAX_RESPONSE_BYTES, RESPONSE_TRUNCATED_WARNING } from "./list-response-cap.ts";
export { type Logger, silentLogger } from "./logger.ts";
export {
  type ClientInfo,
  type ConnectedClient,
  createMethodRegistry,
  type DispatchContext,
  type DispatchRequest,
  type DispatchResult,
  type EmitEvent,
  type MethodContext,
  type MethodDefinition,
  type MethodRegistry,
  type MethodRegistryOptions,
} from "./method-registry.ts";
export {
  type RpcError,
  type RpcErrorCode,
  SESSION_ERROR_WIRE_CODES,
  type ToRpcErrorOptions,
  toRpcError,
} from "./rpc-error.ts";
export type { SessionStateOptions } from "./session-method-context.ts";
export {
  registerSessionMethods,
  SESSIONS_TOPIC,
  type SessionMethods,
  type SessionMethodsOptions,
  type SessionStoreSummary,
} from "./session-methods.ts";
export {
  DEFAULT_STOP_SESSION_TIMEOUT_MS,
  IDLE_SESSION_RUNTIME,
  resolveSessionRuntimeHooks,
  type SessionRuntimeHooks,
  type SessionRuntimeTarget,
  type StopSessionRuntimeOptions,
  stopSessionRuntime,
} from "./session-runtime-hooks.ts";
export type { ConnectionSubscriptions } from "./subscriptions.ts";
