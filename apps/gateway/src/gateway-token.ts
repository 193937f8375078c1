import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { SessionsError } from "@clawkeep/schema";
import { createFileExclusively } from "@clawkeep/store";
import { ensurePrivateDir } from "./private-file.ts";
import { generateSecret } from "./secrets.ts";

/** `<stateDir>/clawkeep/gateway.token`: the token a loopback gateway creates for itself. */
export function resolveGatewayTokenPath(stateDir: string): string {
  return join(stateDir, "clawkeep", "gateway.token");
}

/**
 * Reads the gateway's token file, or returns `undefined` when there is none. This is how
 * `clawkeep` commands on the same machine find the token of a gateway they did not start.
 * Throws `INVALID_CONFIG` for an empty file, `STORE_IO` when the file cannot be read.
 */
export async function readGatewayTokenFile(stateDir: string): Promise<string | undefined> {
  const path = resolveGatewayTokenPath(stateDir);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new SessionsError("STORE_IO", `cannot read gateway token file ${path}`, {
      details: { path },
      cause: error,
    });
  }
  const token = text.trim();
  if (token === "") {
    throw new SessionsError("INVALID_CONFIG", `gateway token file is empty: ${path}`, {
      details: { path },
    });
  }
  return token;
}

export interface GatewayTokenFile {
  token: string;
  path: string;
  /** True when this call created the file. */
  created: boolean;
  /** True when the file is readable or writable by others than its owner. */
  tooOpen: boolean;
}

/**
 * Returns the token stored in `<stateDir>/clawkeep/gateway.token`, creating the file (mode 0600,
 * 32 random bytes as hex) when it does not exist. The complete file is linked into place, so
 * two gateways starting at once agree on one token and neither reads a half-written file.
 */
export async function ensureGatewayTokenFile(stateDir: string): Promise<GatewayTokenFile> {
  const path = resolveGatewayTokenPath(stateDir);
  const existing = await readGatewayTokenFile(stateDir);
  if (existing !== undefined)
    return { token: existing, path, created: false, tooOpen: await isTooOpen(path) };

  await ensurePrivateDir(dirname(path));
  const token = generateSecret(32);
  if ((await createFileExclusively(path, `${token}\n`, 0o600)) === "created") {
    return { token, path, created: true, tooOpen: false };
  }
  const winner = await readGatewayTokenFile(stateDir);
  if (winner === undefined) {
    throw new SessionsError(
      "STORE_IO",
      `gateway token file disappeared right after another process created it: ${path}`,
      {
        details: { path },
      },
    );
  }
  return { token: winner, path, created: false, tooOpen: await isTooOpen(path) };
}

async function isTooOpen(path: string): Promise<boolean> {
  if (process.platform === "win32") return false;
  const stats = await stat(path);
  return (stats.mode & 0o077) !== 0;
}
