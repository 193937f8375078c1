import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { SessionsError } from "@clawkeep/schema";

/** The address the gateway binds when none is given: loopback only. */
export const DEFAULT_BIND_HOST = "127.0.0.1";

/** The default port: one above openclaw's 18789, so both gateways can run on one host. */
export const DEFAULT_GATEWAY_PORT = 18790;

/** openclaw's bind mode names, accepted as aliases for an address. */
const BIND_ALIASES: Readonly<Record<string, string>> = {
  loopback: "127.0.0.1",
  lan: "0.0.0.0",
};

/**
 * Resolves a `--bind` value: an IP address (`127.0.0.1`, `::1`, `0.0.0.0`, …) or one of the
 * aliases `loopback` and `lan`. Throws `INVALID_CONFIG` for anything else, host names included:
 * a name can resolve to a different interface than the one its owner had in mind.
 */
export function resolveBindHost(value: string): string {
  const trimmed = value.trim();
  const alias = BIND_ALIASES[trimmed.toLowerCase()];
  if (alias !== undefined) return alias;
  const unbracketed =
    trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed;
  if (isIP(unbracketed) !== 0) return unbracketed;
  throw new SessionsError(
    "INVALID_CONFIG",
    `invalid bind address: ${JSON.stringify(value)} (use an IP address such as 127.0.0.1, ::1 or 0.0.0.0, or loopback or lan)`,
    { details: { path: "gateway.bind", value } },
  );
}

/** Parses a port number (0 picks a free port). Throws `INVALID_CONFIG` when it is not 0–65535. */
export function parsePort(value: string | number, source: string): number {
  const text = String(value).trim();
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new SessionsError(
      "INVALID_CONFIG",
      `invalid port from ${source}: ${JSON.stringify(String(value))} (expected 0 to 65535)`,
      { details: { path: "gateway.port", value } },
    );
  }
  return port;
}

/** True for an address only this host can reach: 127.0.0.0/8, ::1, and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
  if (isIP(plain) === 4) return plain.startsWith("127.");
  return plain === "::1" || plain === "0:0:0:0:0:0:0:1";
}

const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"] as const;

/**
 * Whether a connection counts as local (loopback devices are paired without asking and may
 * connect without a nonce). A request that came through a proxy on this host carries forwarding
 * headers and is not local, whoever sent it; otherwise a reverse proxy would make every remote
 * client look local.
 */
export function isLoopbackRequest(request: IncomingMessage): boolean {
  if (!isLoopbackAddress(request.socket.remoteAddress)) return false;
  return FORWARDING_HEADERS.every((name) => request.headers[name] === undefined);
}

/** `ws://host:port`, with an IPv6 host in brackets. */
export function formatGatewayUrl(host: string, port: number): string {
  return `ws://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
