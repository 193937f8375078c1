import {
  type ConnectedClient,
  createMethodRegistry,
  type MethodDefinition,
  type MethodRegistry,
  registerSessionMethods,
  silentLogger,
} from "@clawkeep/gateway-methods";
import { type SessionsMethod, validateParams } from "@clawkeep/schema";
import type { SessionsConfig } from "@clawkeep/session-utils";
import type { Env } from "@clawkeep/store";

/** The CLI acts as an operator with every scope: it runs as the owner of the files. */
const CLI_CLIENT: ConnectedClient = {
  connId: "cli",
  role: "operator",
  scopes: ["operator.admin"],
  client: { id: "cli", version: "0.1.0", platform: process.platform, mode: "cli" },
};

export interface LocalSessionsOptions {
  config: SessionsConfig;
  stateDir: string;
  env: Env;
}

/** The gateway's own `sessions.*` handlers, called in this process on the files. */
export interface LocalSessions {
  /**
   * Validates `params` as the gateway does and runs the handler. Returns the validation message
   * instead of throwing, so the caller decides how to report it; the handler's own failures
   * are thrown as the `SessionsError`s they are (the wire would flatten their codes).
   */
  call(
    method: SessionsMethod,
    params: unknown,
  ): Promise<{ ok: true; value: unknown } | { ok: false; message: string }>;
  close(): void;
}

/**
 * Registers `@clawkeep/gateway-methods`' session methods on a registry of its own and keeps the
 * definitions, so that a command runs exactly the handler a gateway would run.
 */
export function openLocalSessions(options: LocalSessionsOptions): LocalSessions {
  const registry = createMethodRegistry();
  const definitions = new Map<string, MethodDefinition>();
  const capturing: MethodRegistry = {
    ...registry,
    register(definition) {
      registry.register(definition);
      definitions.set(definition.name, definition as unknown as MethodDefinition);
    },
  };
  const methods = registerSessionMethods(capturing, {
    stateDir: options.stateDir,
    env: options.env,
    loadConfig: () => options.config,
  });
  let requests = 0;
  return {
    async call(method, params) {
      const definition = definitions.get(method);
      if (definition === undefined) throw new Error(`session method not registered: ${method}`);
      const checked = validateParams(method, definition.paramsSchema, params ?? {});
      if (!checked.ok) return { ok: false, message: checked.message };
      requests += 1;
      const value: unknown = await definition.handler(checked.value, {
        requestId: `cli-${requests}`,
        method,
        client: CLI_CLIENT,
        logger: silentLogger,
        emit: () => {},
        subscriptions: new Set<string>(),
      });
      return { ok: true, value };
    },
    close: () => methods.close(),
  };
}
