/** How store locks are taken by the operations of this package. */
export interface LockSettings {
  /** How long to wait for a lock another process holds. @default 10000 */
  timeoutMs?: number;
  /** A lock not refreshed for this long is taken over. @default 30000 */
  staleMs?: number;
}
