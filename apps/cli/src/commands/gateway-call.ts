import type { CommandContext, CommandResult } from "../command-context.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { connectToGateway } from "../gateway-connection.ts";
import { parseJsonFlag } from "../json-flag.ts";

export interface GatewayCallFlags {
  params: string | undefined;
  url: string | undefined;
  token: string | undefined;
  timeoutMs: number | undefined;
}

export interface GatewayCallData {
  method: string;
  url: string;
  result: unknown;
}

/** `clawkeep gateway call <method> [--params JSON]`: one request, its payload printed. */
export async function runGatewayCall(
  method: string,
  flags: GatewayCallFlags,
  context: CommandContext,
): Promise<CommandResult<GatewayCallData>> {
  const params = flags.params === undefined ? undefined : parseJsonFlag("--params", flags.params);
  const { client, url } = await connectToGateway(flags, context);
  try {
    const result = await client.call(method, params);
    return {
      data: { method, url, result },
      exitCode: EXIT_CODES.OK,
      render: () => JSON.stringify(result, null, 2),
    };
  } finally {
    await client.close();
  }
}
