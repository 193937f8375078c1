/**
 * What a method asks of an operator connection:
 * - `read`: `operator.read` or `operator.write`;
 * - `write`: `operator.write`;
 * - `admin`: `operator.admin`.
 * `operator.admin` passes every method.
 */
export type MethodScope = "read" | "write" | "admin";

/** The operator scopes the gateway knows; clients may claim others, which grant nothing here. */
export const OPERATOR_SCOPES = {
  ADMIN: "operator.admin",
  READ: "operator.read",
  WRITE: "operator.write",
  APPROVALS: "operator.approvals",
  PAIRING: "operator.pairing",
} as const;

/** Who is calling, as far as authorization is concerned. */
export interface MethodAuthorizationSubject {
  /** `operator` or `node`; anything else is refused. */
  role: string;
  scopes: readonly string[];
}

/**
 * Decides whether `subject` may call a method that requires `scope`, the way openclaw's gateway
 * decides it (reference: gateway-wire §3). `scope` is `undefined` for a method that is not
 * registered: such a call needs `operator.admin`, so a caller without it learns nothing about
 * which methods exist. Returns `undefined` when allowed, else the wire message
 * (`missing scope: operator.admin`, `unauthorized role: node`).
 */
export function authorizeMethod(
  subject: MethodAuthorizationSubject,
  scope: MethodScope | undefined,
): string | undefined {
  // clawkeep serves no node methods, so a node connection may call nothing.
  if (subject.role !== "operator") return `unauthorized role: ${subject.role}`;
  const scopes = subject.scopes;
  if (scopes.includes(OPERATOR_SCOPES.ADMIN)) return undefined;
  if (scope === "read") {
    return scopes.includes(OPERATOR_SCOPES.READ) || scopes.includes(OPERATOR_SCOPES.WRITE)
      ? undefined
      : `missing scope: ${OPERATOR_SCOPES.READ}`;
  }
  if (scope === "write") {
    return scopes.includes(OPERATOR_SCOPES.WRITE)
      ? undefined
      : `missing scope: ${OPERATOR_SCOPES.WRITE}`;
  }
  return `missing scope: ${OPERATOR_SCOPES.ADMIN}`;
}
