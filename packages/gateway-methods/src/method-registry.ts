import { ERROR_CODES, validateParams } from "@clawkeep/schema";
import type { z } from "zod";
import { authorizeMethod, type MethodScope } from "./authorize-method.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { type RpcError, toRpcError } from "./rpc-error.ts";
import type { ConnectionSubscriptions } from "./subscriptions.ts";

/** The `client` block a connection declared in its `connect` request. */
export interface ClientInfo {
  id: string;
  version: string;
  platform: string;
  mode: string;
  displayName?: string;
  instanceId?: string;
}

/** The connection a request arrived on, as established by the handshake. */
export interface ConnectedClient {
  /** The gateway's id for this connection (also sent in `hello-ok.server.connId`). */
  connId: string;
  /** `operator` or `node`. */
  role: string;
  /** The scopes granted to this connection. */
  scopes: readonly string[];
  client: ClientInfo;
  /** The verified device id, when the connection presented a device identity. */
  deviceId?: string;
}

/** Sends an event to connected clients; what "connected clients" means is the gateway's choice. */
export type EmitEvent = (event: string, payload?: unknown) => void;

/** What a handler receives beside its validated params. */
export interface MethodContext {
  /** The request's `id`. */
  requestId: string;
  /** The method name, as registered. */
  method: string;
  client: ConnectedClient;
  logger: Logger;
  emit: EmitEvent;
  /** The topics the calling connection is subscribed to; `sessions.subscribe` adds to them. */
  subscriptions: ConnectionSubscriptions;
}

/** One method: its name, who may call it, what params it takes and what it does. */
export interface MethodDefinition<Schema extends z.ZodType = z.ZodType> {
  /** The wire name, for example `sessions.list`. */
  name: string;
  /**
   * Validates `params` (an absent `params` is validated as `{}`). Its failures become
   * `invalid <name> params: …` in the wire wording.
   */
  paramsSchema: Schema;
  /** What the caller needs; see {@link MethodScope}. */
  scope: MethodScope;
  /**
   * Listed in `hello-ok.features.methods`. openclaw serves some methods without listing them
   * (`sessions.resolve`); clients that check the list before calling rely on the listed ones.
   * @default true
   */
  advertised?: boolean;
  /** Returns the response payload; throws a `SessionsError` for failures the caller can reach. */
  handler: (params: z.output<Schema>, context: MethodContext) => unknown;
}

/** The request a connection passes in: a validated `req` frame. */
export interface DispatchRequest {
  id: string;
  method: string;
  params?: unknown;
}

/** What the gateway supplies for one request. */
export interface DispatchContext {
  client: ConnectedClient;
  /** @default the registry's logger */
  logger?: Logger;
  /** @default drops the event */
  emit?: EmitEvent;
  /**
   * The connection's subscriptions, kept by the gateway for as long as the connection lives.
   * @default a set of this request's own, so subscribing has no lasting effect
   */
  subscriptions?: ConnectionSubscriptions;
}

/** The outcome of one dispatch, ready to become a `res` frame with the request's id. */
export type DispatchResult = { ok: true; payload: unknown } | { ok: false; error: RpcError };

export interface MethodRegistryOptions {
  /**
   * Receives internal failures of handlers (with stacks). Overridden per request by
   * {@link DispatchContext.logger}.
   * @default silentLogger
   */
  logger?: Logger;
}

export interface MethodRegistry {
  /**
   * Adds a method. Throws a plain `Error` for a name that is taken, empty, or `connect` (the
   * handshake is the gateway's, not a method).
   */
  register<Schema extends z.ZodType>(definition: MethodDefinition<Schema>): void;
  /**
   * Declares an event that handlers emit, so that the gateway advertises it in
   * `hello-ok.features.events`. Declaring one twice is harmless.
   */
  declareEvent(name: string): void;
  /** True when `name` is registered. */
  has(name: string): boolean;
  /** Names of the advertised methods, in registration order. */
  advertisedMethods(): string[];
  /** Declared events, in declaration order. */
  declaredEvents(): string[];
  /**
   * Serves one request: authorization by role and scopes, then method lookup, then params
   * validation, then the handler. Never throws; every failure is a wire error.
   */
  dispatch(request: DispatchRequest, context: DispatchContext): Promise<DispatchResult>;
}

function ignoreEvent(): void {}

function failure(code: RpcError["code"], message: string): DispatchResult {
  return { ok: false, error: { code, message } };
}

/** Creates an empty method registry. */
export function createMethodRegistry(options: MethodRegistryOptions = {}): MethodRegistry {
  const registryLogger = options.logger ?? silentLogger;
  const methods = new Map<string, MethodDefinition>();
  const events = new Set<string>();

  return {
    register(definition) {
      const name = definition.name;
      if (typeof name !== "string" || name.trim() === "") {
        throw new Error("method name must be a non-empty string");
      }
      if (name === "connect") {
        throw new Error("`connect` is the handshake and cannot be registered as a method");
      }
      if (methods.has(name)) throw new Error(`method already registered: ${name}`);
      methods.set(name, { ...definition } as unknown as MethodDefinition);
    },

    declareEvent(name) {
      if (typeof name !== "string" || name.trim() === "") {
        throw new Error("event name must be a non-empty string");
      }
      events.add(name);
    },

    has(name) {
      return methods.has(name);
    },

    advertisedMethods() {
      const names: string[] = [];
      for (const definition of methods.values()) {
        if (definition.advertised !== false) names.push(definition.name);
      }
      return names;
    },

    declaredEvents() {
      return [...events];
    },

    async dispatch(request, context) {
      const definition = methods.get(request.method);
      const denied = authorizeMethod(context.client, definition?.scope);
      if (denied !== undefined) return failure(ERROR_CODES.INVALID_REQUEST, denied);
      if (definition === undefined) {
        return failure(ERROR_CODES.INVALID_REQUEST, `unknown method: ${request.method}`);
      }

      const validated = validateParams(
        definition.name,
        definition.paramsSchema,
        request.params ?? {},
      );
      if (!validated.ok) return failure(ERROR_CODES.INVALID_REQUEST, validated.message);

      const logger = context.logger ?? registryLogger;
      const methodContext: MethodContext = {
        requestId: request.id,
        method: definition.name,
        client: context.client,
        logger,
        emit: context.emit ?? ignoreEvent,
        subscriptions: context.subscriptions ?? new Set<string>(),
      };
      try {
        const payload = await definition.handler(validated.value, methodContext);
        return { ok: true, payload };
      } catch (error) {
        return { ok: false, error: toRpcError(error, { logger, method: definition.name }) };
      }
    },
  };
}
