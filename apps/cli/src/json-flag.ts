import { usageError } from "./usage-error.ts";

/** Parses the JSON given to a flag such as `--params`; a parse error is a usage error. */
export function parseJsonFlag(flag: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw usageError(`${flag} is not valid JSON (${(error as Error).message})`);
  }
}
