import { SessionsError, type SessionsMethod } from "@clawkeep/schema";
import type { SessionsConfig } from "@clawkeep/session-utils";
import { expandHomePath } from "@clawkeep/store";
import type { CommandContext } from "./command-context.ts";
import { connectToGateway } from "./gateway-connection.ts";
import { usageError } from "./usage-error.ts";

/** `--url`, `--token`, `--agent`, `--store` of the sessions commands. */
export interface SessionsConnectionFlags {
  url: string | undefined;
  token: string | undefined;
  agent: string | undefined;
  store: string | undefined;
}

/** Calls `sessions.*` methods on the files or on a running gateway, with the same semantics. */
export interface SessionsCaller {
  /** `files`, or the gateway URL. */
  readonly via: string;
  /** Set when working on files: what the methods use. */
  readonly files: { config: SessionsConfig; stateDir: string } | undefined;
  call<T = Record<string, unknown>>(
    method: SessionsMethod,
    params: Record<string, unknown>,
  ): Promise<T>;
  close(): Promise<void>;
}

function withoutUndefined(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
}

/**
 * Opens the caller the flags ask for: a gateway connection with `--url`, else the files of the
 * state dir (`--store` replaces the configured store). Params are validated as the gateway
 * validates them; a validation failure is a usage error.
 */
export async function openSessionsCaller(
  flags: SessionsConnectionFlags,
  context: CommandContext,
): Promise<SessionsCaller> {
  if (flags.url !== undefined) {
    if (flags.store !== undefined)
      throw usageError("--store works on files only; drop it or drop --url");
    const { client, url } = await connectToGateway({ url: flags.url, token: flags.token }, context);
    return {
      via: url,
      files: undefined,
      async call(method, params) {
        try {
          return await client.call(method, withoutUndefined(params));
        } catch (error) {
          // The wire gives every caller mistake one code, INVALID_REQUEST; a session that is not
          // there stays a failure (exit 1), as it is on files, and the rest is a usage error.
          const code = (error as { code?: unknown } | null)?.code;
          const message = error instanceof Error ? error.message : String(error);
          if (code === "INVALID_REQUEST" && !/^No session found/.test(message)) {
            throw usageError(message, { help: false });
          }
          throw error;
        }
      },
      close: async () => {
        await client.close();
      },
    };
  }
  let config = await context.loadConfig();
  if (flags.store !== undefined) {
    config = {
      ...config,
      session: { ...config.session, store: expandHomePath(flags.store, { env: context.env }) },
    };
  }
  const files = { config, stateDir: context.stateDir };
  const { openLocalSessions } = await import("./local-sessions.ts");
  const local = openLocalSessions({ ...files, env: context.env });
  return {
    via: "files",
    files,
    async call(method, params) {
      let result: Awaited<ReturnType<typeof local.call>>;
      try {
        result = await local.call(method, withoutUndefined(params));
      } catch (error) {
        // What the gateway would answer with INVALID_REQUEST for a bad value is a mistake in
        // the command line; a missing session or a corrupt store is a failure.
        if (SessionsError.hasCode(error, "INVALID_PARAMS"))
          throw usageError(error.message, { help: false });
        throw error;
      }
      if (!result.ok) throw usageError(result.message, { help: false });
      return result.value as never;
    },
    close: async () => {
      local.close();
    },
  };
}

/** `--agent main` with a bare key means that agent's session: `agent:main:<key>`. */
export function qualifyKey(key: string, agent: string | undefined): string {
  const trimmed = key.trim();
  if (agent === undefined || trimmed.toLowerCase().startsWith("agent:")) return trimmed;
  if (trimmed === "global" || trimmed === "unknown") return trimmed;
  return `agent:${agent}:${trimmed}`;
}
