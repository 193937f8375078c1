import type { GatewayClient } from "@clawkeep/gateway-client";
import type { Env } from "@clawkeep/store";
import { usageError } from "./usage-error.ts";

/** How to reach a gateway, as given on the command line. */
export interface GatewayConnectionFlags {
  url: string | undefined;
  token: string | undefined;
  /** How long a call may take. @default 30000 */
  timeoutMs?: number | undefined;
}

function firstSet(env: Env, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

/**
 * Opens a connection: `--url`, else `ws://127.0.0.1:<CLAWKEEP_GATEWAY_PORT or 18790>`; the token
 * from `--token`, else `CLAWKEEP_GATEWAY_TOKEN` / `OPENCLAW_GATEWAY_TOKEN`, else the token file a
 * local gateway writes into the state dir.
 */
export async function connectToGateway(
  flags: GatewayConnectionFlags,
  context: { env: Env; stateDir: string },
): Promise<{ client: GatewayClient; url: string }> {
  const { DEFAULT_GATEWAY_PORT, formatGatewayUrl, readGatewayTokenFile } = await import(
    "clawkeep-gateway"
  );
  const port =
    firstSet(context.env, ["CLAWKEEP_GATEWAY_PORT", "OPENCLAW_GATEWAY_PORT"]) ??
    String(DEFAULT_GATEWAY_PORT);
  const url = flags.url ?? formatGatewayUrl("127.0.0.1", Number(port));
  if (!/^wss?:\/\//.test(url))
    throw usageError(`--url must start with ws:// or wss://, got ${JSON.stringify(url)}`);
  const token =
    flags.token ??
    firstSet(context.env, ["CLAWKEEP_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_TOKEN"]) ??
    (await readGatewayTokenFile(context.stateDir));
  const { connectGateway, GatewayClientError } = await import("@clawkeep/gateway-client");
  try {
    const client = await connectGateway({
      url,
      ...(token !== undefined && { token }),
      client: { id: "cli", mode: "cli" },
      ...(flags.timeoutMs !== undefined && { callTimeoutMs: flags.timeoutMs }),
    });
    return { client, url };
  } catch (error) {
    // A refusal by the gateway itself (not a network failure) is almost always the token.
    if (!GatewayClientError.isInstance(error) || error.code.startsWith("CLIENT_")) throw error;
    const source =
      flags.token !== undefined ? "--token" : token === undefined ? "no token" : "the token found";
    throw new GatewayClientError(
      error.code,
      `the gateway at ${url} refused the connection: ${error.message} (using ${source}; pass --token or set CLAWKEEP_GATEWAY_TOKEN)`,
      { cause: error, details: error.details },
    );
  }
}
