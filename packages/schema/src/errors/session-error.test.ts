import { describe, expect, it } from "vitest";
import { SessionsError } from "./session-error.ts";

describe("SessionsError", () => {
  it("carries code, details and cause", () => {
    const cause = new Error("EACCES");
    const error = new SessionsError("STORE_IO", "cannot read /x/sessions.json", {
      details: { path: "/x/sessions.json" },
      cause,
    });
    expect(error.code).toBe("STORE_IO");
    expect(error.message).toBe("cannot read /x/sessions.json");
    expect(error.details).toEqual({ path: "/x/sessions.json" });
    expect(error.cause).toBe(cause);
    expect(error.name).toBe("SessionsError");
  });

  it("is recognised across copies through a global symbol, not instanceof", () => {
    const foreign = Object.assign(new Error("x"), {
      [Symbol.for("clawkeep.sessions-error")]: true,
    });
    expect(SessionsError.isInstance(foreign)).toBe(true);
    expect(SessionsError.isInstance(new Error("plain"))).toBe(false);
    expect(SessionsError.isInstance(null)).toBe(false);
    expect(SessionsError.hasCode(new SessionsError("STORE_LOCKED", "x"), "STORE_LOCKED")).toBe(
      true,
    );
    expect(SessionsError.hasCode(new SessionsError("STORE_LOCKED", "x"), "STORE_CORRUPT")).toBe(
      false,
    );
  });
});
