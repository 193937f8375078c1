import { describe, expect, it } from "vitest";
import { deriveSessionTitle } from "./titles.ts";

const base = { sessionId: "abcd1234-5678-90ab-cdef-1234567890ab", updatedAt: 0 };

describe("deriveSessionTitle", () => {
  it("is undefined without an entry (#37)", () => {
    expect(deriveSessionTitle(undefined)).toBeUndefined();
    expect(deriveSessionTitle(null, "hello")).toBeUndefined();
  });

  it("prefers displayName, then subject (#38, #39)", () => {
    expect(
      deriveSessionTitle({ ...base, displayName: "My Custom Session", subject: "Subject" }, "hi"),
    ).toBe("My Custom Session");
    expect(deriveSessionTitle({ ...base, subject: "Dev Team Chat" }, "hi")).toBe("Dev Team Chat");
  });

  it("uses the first user message (#40)", () => {
    expect(deriveSessionTitle(base, "Hello, how are you?")).toBe("Hello, how are you?");
  });

  it("truncates a long message to 60 characters with an ellipsis (#41)", () => {
    const message =
      "This is a very long message that exceeds sixty characters and should be truncated nicely.";
    const padded = `${message} ${"x".repeat(95 - message.length - 1)}`;
    expect(padded).toHaveLength(95);
    const title = deriveSessionTitle(base, padded);
    expect(title).toBe("This is a very long message that exceeds sixty characters…");
    expect(title?.length).toBeLessThanOrEqual(60);
  });

  it("cuts at a word boundary and collapses whitespace (#42)", () => {
    const title = deriveSessionTitle(
      base,
      "This message has many  words and should be truncated at a word boundary nicely",
    );
    expect(title).toBe("This message has many words and should be truncated at a…");
    expect(title).not.toContain("  ");
  });

  it("cuts mid-word when the last space is too early", () => {
    const title = deriveSessionTitle(base, `short ${"y".repeat(80)}`);
    expect(title).toBe(`short ${"y".repeat(53)}…`);
    expect(title).toHaveLength(60);
  });

  it("falls back to the session id prefix with the UTC day (#43, #44)", () => {
    const updatedAt = Date.parse("2024-03-15T10:30:00Z");
    expect(deriveSessionTitle({ ...base, updatedAt })).toBe("abcd1234 (2024-03-15)");
    expect(deriveSessionTitle(base)).toBe("abcd1234");
    expect(deriveSessionTitle({ ...base, updatedAt }, "   ")).toBe("abcd1234 (2024-03-15)");
  });

  it("trims displayName and skips blank ones (#45, #46)", () => {
    expect(deriveSessionTitle({ ...base, displayName: "  Padded Name  " })).toBe("Padded Name");
    expect(deriveSessionTitle({ ...base, displayName: "   ", subject: "Actual Subject" })).toBe(
      "Actual Subject",
    );
  });
});
