import { describe, expect, it } from "vitest";
import fixture from "../__fixtures__/openclaw-sessions.json" with { type: "json" };
import {
  deliveryContextKey,
  mergeDeliveryContext,
  normalizeChannelId,
  normalizeDeliveryContext,
  normalizeSessionEntryDelivery,
} from "./delivery-context.ts";
import type { SessionEntry } from "./session-entry.ts";

function entry(fields: Record<string, unknown>): SessionEntry {
  return Object.freeze({ sessionId: "s1", updatedAt: 1, ...fields }) as SessionEntry;
}

describe("normalizeChannelId", () => {
  it.each([
    [" WhatsApp ", "whatsapp"],
    ["imsg", "imessage"],
    ["GChat", "googlechat"],
    ["google-chat", "googlechat"],
    ["internet-relay-chat", "irc"],
    ["my-plugin", "my-plugin"],
    ["   ", undefined],
    [42, undefined],
  ])("%j → %j", (input, expected) => {
    expect(normalizeChannelId(input)).toBe(expected);
  });
});

describe("normalizeDeliveryContext", () => {
  it("trims, lower-cases the channel and drops blank values", () => {
    expect(
      normalizeDeliveryContext({ channel: " WhatsApp ", to: " +1555 ", accountId: " acct-1 " }),
    ).toEqual({ channel: "whatsapp", to: "+1555", accountId: "acct-1" });
    expect(normalizeDeliveryContext({ channel: "  ", accountId: " " })).toBeUndefined();
    expect(normalizeDeliveryContext(undefined)).toBeUndefined();
  });

  it("truncates a numeric threadId and drops a blank one", () => {
    expect(normalizeDeliveryContext({ channel: "telegram", threadId: 42.9 })).toEqual({
      channel: "telegram",
      threadId: 42,
    });
    expect(normalizeDeliveryContext({ channel: "slack", threadId: " 123.456 " })).toEqual({
      channel: "slack",
      threadId: "123.456",
    });
    expect(normalizeDeliveryContext({ channel: "slack", threadId: "" })).toEqual({
      channel: "slack",
    });
    expect(normalizeDeliveryContext({ threadId: 7 })).toEqual({ threadId: 7 });
  });
});

describe("mergeDeliveryContext", () => {
  it("fills the gaps of the primary context from the fallback", () => {
    expect(
      mergeDeliveryContext(
        { channel: "telegram", to: " 1 " },
        { channel: "Telegram", accountId: "a" },
      ),
    ).toEqual({ channel: "telegram", to: "1", accountId: "a" });
    expect(mergeDeliveryContext(undefined, { channel: "slack" })).toEqual({ channel: "slack" });
    expect(mergeDeliveryContext(undefined, undefined)).toBeUndefined();
  });

  it("never pairs one channel's recipient, account or thread with another channel", () => {
    expect(
      mergeDeliveryContext(
        { channel: "whatsapp", to: "+1555" },
        { channel: "slack", to: "channel:def", accountId: "acct", threadId: "9" },
      ),
    ).toEqual({ channel: "whatsapp", to: "+1555" });
  });
});

describe("deliveryContextKey", () => {
  it("joins channel, to, account and thread, and needs a channel and a recipient", () => {
    expect(deliveryContextKey({ channel: "whatsapp", to: "+1555" })).toBe("whatsapp|+1555||");
    expect(deliveryContextKey({ channel: " WhatsApp ", to: "+1555", accountId: "acct-1" })).toBe(
      "whatsapp|+1555|acct-1|",
    );
    expect(deliveryContextKey({ channel: "slack", to: "channel:C1", threadId: "123.456" })).toBe(
      "slack|channel:C1||123.456",
    );
    expect(deliveryContextKey({ channel: "telegram", to: "1", threadId: 0 })).toBe("telegram|1||0");
    expect(deliveryContextKey({ channel: "whatsapp" })).toBeUndefined();
    expect(deliveryContextKey({ to: "+1555" })).toBeUndefined();
    expect(deliveryContextKey(undefined)).toBeUndefined();
  });
});

describe("normalizeSessionEntryDelivery", () => {
  it("normalises the last route and mirrors it into deliveryContext (reference #95)", () => {
    const input = entry({
      lastChannel: " WhatsApp ",
      lastTo: " +1555 ",
      lastAccountId: " acct-1 ",
    });
    const normalized = normalizeSessionEntryDelivery(input);
    expect(normalized).toEqual({
      sessionId: "s1",
      updatedAt: 1,
      lastChannel: "whatsapp",
      lastTo: "+1555",
      lastAccountId: "acct-1",
      deliveryContext: { channel: "whatsapp", to: "+1555", accountId: "acct-1" },
    });
    expect(input.lastChannel).toBe(" WhatsApp ");
    // Existing keys keep their place; the new deliveryContext is appended.
    expect(Object.keys(normalized)).toEqual([
      "sessionId",
      "updatedAt",
      "lastChannel",
      "lastTo",
      "lastAccountId",
      "deliveryContext",
    ]);
  });

  it("returns every entry openclaw wrote as the same object", () => {
    const entries = Object.values(fixture as Record<string, SessionEntry>);
    expect(entries.length).toBeGreaterThan(0);
    for (const stored of entries) {
      expect(normalizeSessionEntryDelivery(stored)).toBe(stored);
    }
  });

  it("returns the same object for an entry without any delivery field", () => {
    const bare = entry({ label: "x" });
    expect(normalizeSessionEntryDelivery(bare)).toBe(bare);
  });

  it("derives the route from channel when lastChannel is absent, appending new keys", () => {
    const normalized = normalizeSessionEntryDelivery(entry({ channel: "Telegram", label: "x" }));
    expect(normalized).toEqual({
      sessionId: "s1",
      updatedAt: 1,
      channel: "Telegram",
      label: "x",
      deliveryContext: { channel: "telegram" },
      lastChannel: "telegram",
    });
    expect(Object.keys(normalized).slice(-2)).toEqual(["deliveryContext", "lastChannel"]);
  });

  it("fills the last route from deliveryContext and takes the thread from origin", () => {
    const normalized = normalizeSessionEntryDelivery(
      entry({
        origin: { threadId: 77.5 },
        deliveryContext: { channel: "telegram", to: "123", accountId: "work" },
      }),
    );
    expect(normalized.deliveryContext).toEqual({
      channel: "telegram",
      to: "123",
      accountId: "work",
      threadId: 77,
    });
    expect(normalized).toMatchObject({
      lastChannel: "telegram",
      lastTo: "123",
      lastAccountId: "work",
      lastThreadId: 77,
    });
  });

  it("drops blank values and removes fields that end up empty", () => {
    const normalized = normalizeSessionEntryDelivery(
      entry({
        lastChannel: " ",
        lastTo: "",
        lastAccountId: "  ",
        lastThreadId: "",
        deliveryContext: {},
      }),
    );
    expect(normalized).toEqual({ sessionId: "s1", updatedAt: 1 });
  });

  it("keeps unknown fields of deliveryContext when it is rewritten", () => {
    const normalized = normalizeSessionEntryDelivery(
      entry({ lastChannel: "slack", deliveryContext: { channel: "Slack", route: { id: 1 } } }),
    );
    expect(normalized.deliveryContext).toEqual({ channel: "slack", route: { id: 1 } });
  });

  it("is idempotent", () => {
    const once = normalizeSessionEntryDelivery(
      entry({
        lastChannel: "imsg",
        lastTo: " +1 ",
        lastThreadId: 3.2,
        deliveryContext: { to: "x" },
      }),
    );
    expect(once).toMatchObject({ lastChannel: "imessage", lastTo: "+1", lastThreadId: 3 });
    expect(normalizeSessionEntryDelivery(once)).toBe(once);
  });

  it("ignores delivery fields of the wrong type instead of failing", () => {
    const normalized = normalizeSessionEntryDelivery(
      entry({ lastChannel: 5, lastTo: "+1", deliveryContext: "telegram" }),
    );
    expect(normalized).toEqual({
      sessionId: "s1",
      updatedAt: 1,
      lastTo: "+1",
      deliveryContext: { to: "+1" },
    });
  });
});
