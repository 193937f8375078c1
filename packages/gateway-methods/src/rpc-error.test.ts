import { SESSION_ERROR_CODES, type SessionErrorCode, SessionsError } from "@clawkeep/schema";
import { describe, expect, it } from "vitest";
import { SESSION_ERROR_WIRE_CODES, toRpcError } from "./rpc-error.ts";

const INVALID_REQUEST_CODES: SessionErrorCode[] = [
  "INVALID_PARAMS",
  "SESSION_NOT_FOUND",
  "INVALID_ID",
  "PATH_ESCAPE",
  "ALREADY_EXISTS",
  "INVALID_CONFIG",
];
const RETRYABLE_CODES: SessionErrorCode[] = [
  "STORE_LOCKED",
  "STORE_LOCK_COMPROMISED",
  "TRANSCRIPT_LOCKED",
  "SESSION_ACTIVE",
];

describe("toRpcError", () => {
  it("has a wire mapping for every session error code", () => {
    expect(Object.keys(SESSION_ERROR_WIRE_CODES).sort()).toEqual(
      Object.keys(SESSION_ERROR_CODES).sort(),
    );
  });

  it.each(Object.keys(SESSION_ERROR_CODES) as SessionErrorCode[])("maps %s", (code) => {
    const error = new SessionsError(code, `message for ${code}`, { details: { path: "/x" } });
    const rpcError = toRpcError(error);
    const expected: Record<string, unknown> = {
      code: INVALID_REQUEST_CODES.includes(code) ? "INVALID_REQUEST" : "UNAVAILABLE",
      message: `message for ${code}`,
    };
    if (RETRYABLE_CODES.includes(code)) expected.retryable = true;
    // Details stay in the server: they may hold paths the caller never gave.
    expect(rpcError).toEqual(expected);
  });

  it("keeps the openclaw text of an active session", () => {
    const error = new SessionsError(
      "SESSION_ACTIVE",
      "Session agent:main:main is still active; try again in a moment.",
    );
    expect(toRpcError(error)).toEqual({
      code: "UNAVAILABLE",
      message: "Session agent:main:main is still active; try again in a moment.",
      retryable: true,
    });
  });

  it("treats a code this table does not know as UNAVAILABLE", () => {
    const error = new SessionsError("STORE_IO", "x");
    (error as { code: string }).code = "SOMETHING_NEW";
    expect(toRpcError(error)).toEqual({ code: "UNAVAILABLE", message: "x" });
  });

  it("hides unknown errors behind a reference and logs them", () => {
    const logged: Array<Record<string, unknown> | undefined> = [];
    const ignore = () => {};
    const logger = {
      debug: ignore,
      info: ignore,
      warn: ignore,
      error: (_message: string, fields?: Record<string, unknown>) => logged.push(fields),
    };
    const rpcError = toRpcError("a thrown string", { logger, method: "m" });
    expect(rpcError.code).toBe("UNAVAILABLE");
    expect(rpcError.message).toMatch(/^internal error \(reference [0-9a-f]{8}\)$/);
    expect(logged).toEqual([
      { reference: expect.any(String), method: "m", error: "a thrown string" },
    ]);
  });
});
