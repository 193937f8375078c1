import { expandHomePath } from "@clawkeep/store";
import type { CommandContext } from "./command-context.ts";

/** `--agent` and `--store` of the commands that work on the agent stores' files. */
export interface StoreSelectionFlags {
  agent: string | undefined;
  store: string | undefined;
}

/** The `agentId` and `storePath` options (`~` expanded) that `--agent` and `--store` ask for. */
export function storeSelectionOptions(
  flags: StoreSelectionFlags,
  context: CommandContext,
): { agentId?: string; storePath?: string } {
  return {
    ...(flags.agent !== undefined && { agentId: flags.agent }),
    ...(flags.store !== undefined && {
      storePath: expandHomePath(flags.store, { env: context.env }),
    }),
  };
}
