import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Compares two secrets in constant time. Both are hashed first, so neither the comparison nor an
 * early length check reveals how long the configured secret is or how much of it matched.
 */
export function secretsEqual(provided: string, expected: string): boolean {
  const left = createHash("sha256").update(provided, "utf8").digest();
  const right = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(left, right);
}

/** A random secret of `bytes` bytes, hex encoded. */
export function generateSecret(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}
