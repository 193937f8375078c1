import { describe, expect, it } from "vitest";
import {
  clampPreviewLimits,
  extractMessageText,
  stripChannelEnvelope,
  toSessionPreviewItem,
  truncatePreviewText,
} from "./message-text.ts";

describe("extractMessageText", () => {
  it("reads string content and the first text-like part", () => {
    expect(extractMessageText({ content: "  hi  " })).toBe("hi");
    expect(
      extractMessageText({
        content: [
          { type: "image", data: "" },
          { type: "text", text: "  " },
          { type: "output_text", text: "out" },
        ],
      }),
    ).toBe("out");
    expect(extractMessageText({ content: [] })).toBeNull();
    expect(extractMessageText({ content: "   " })).toBeNull();
    expect(extractMessageText(null)).toBeNull();
  });
});

describe("toSessionPreviewItem", () => {
  it("maps roles", () => {
    expect(toSessionPreviewItem({ role: "system", content: "s" }, 100)).toEqual({
      role: "system",
      text: "s",
    });
    expect(toSessionPreviewItem({ role: "bashExecution", text: "ls" }, 100)).toEqual({
      role: "other",
      text: "ls",
    });
    expect(
      toSessionPreviewItem(
        { role: "toolResult", toolName: "read", content: [{ type: "text", text: "file body" }] },
        100,
      ),
    ).toEqual({ role: "tool", text: "file body" });
  });

  it("joins text parts and names calls when there is no text", () => {
    expect(
      toSessionPreviewItem(
        {
          role: "assistant",
          content: [
            { type: "text", text: "a" },
            { type: "thinking", thinking: "t" },
            { type: "text", text: "b" },
          ],
        },
        100,
      ),
    ).toEqual({ role: "assistant", text: "a\nb" });
    expect(
      toSessionPreviewItem(
        {
          role: "assistant",
          content: [
            { type: "toolCall", name: "x" },
            { type: "toolCall", name: "y" },
          ],
        },
        100,
      ),
    ).toEqual({ role: "tool", text: "call x, y" });
    expect(toSessionPreviewItem({ role: "assistant", content: [] }, 100)).toBeNull();
  });
});

describe("stripChannelEnvelope", () => {
  it("removes channel and timestamp envelopes only", () => {
    expect(stripChannelEnvelope("[Telegram Alice 2026-02-12 10:00] what's up")).toBe("what's up");
    expect(stripChannelEnvelope("[2026-02-12T10:00:00Z] hello")).toBe("hello");
    expect(stripChannelEnvelope("[WhatsApp +1555] hey")).toBe("hey");
    expect(stripChannelEnvelope("[todo] write tests")).toBe("[todo] write tests");
    expect(stripChannelEnvelope("no envelope")).toBe("no envelope");
  });
});

describe("truncatePreviewText", () => {
  it("cuts with ... and never splits a surrogate pair", () => {
    expect(truncatePreviewText("abcdef", 10)).toBe("abcdef");
    expect(truncatePreviewText("abcdefghij", 6)).toBe("abc...");
    expect(truncatePreviewText("abcdef", 3)).toBe("abc");
    // "ab🙂cd": the cut at 3 units would split the emoji, so it moves before it.
    expect(truncatePreviewText("ab🙂cdefgh", 6)).toBe("ab...");
  });
});

describe("clampPreviewLimits", () => {
  it("clamps into openclaw's ranges (#85)", () => {
    expect(clampPreviewLimits(100, 5)).toEqual({ maxItems: 50, maxChars: 20 });
    expect(clampPreviewLimits(0, 5000)).toEqual({ maxItems: 1, maxChars: 2000 });
    expect(clampPreviewLimits(3.7, 120.2)).toEqual({ maxItems: 3, maxChars: 120 });
  });
});
