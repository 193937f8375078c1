/**
 * The gateway protocol version clawkeep speaks (openclaw 2026.2 clients). This is the one place
 * it is written; a later version is added to {@link SUPPORTED_PROTOCOL_VERSIONS} beside it.
 */
export const PROTOCOL_VERSION = 3;

/** Every protocol version clawkeep can speak, highest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/**
 * The highest supported version within a client's `[minProtocol, maxProtocol]`, or `null` when
 * there is none (the gateway then answers `protocol mismatch`).
 */
export function negotiateProtocolVersion(minProtocol: number, maxProtocol: number): number | null {
  for (const version of SUPPORTED_PROTOCOL_VERSIONS) {
    if (version >= minProtocol && version <= maxProtocol) return version;
  }
  return null;
}
