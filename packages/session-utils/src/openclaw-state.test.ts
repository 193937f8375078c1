import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SessionsListResultSchema } from "@clawkeep/schema";
import { loadSessionStore, updateSessionStore } from "@clawkeep/store";
import { copyFixtureDir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { loadSessionsConfig } from "./config/load-sessions-config.ts";
import { resolveGatewaySessionStoreTarget } from "./keys/store-target.ts";
import { listCombinedSessions } from "./list/list-combined-sessions.ts";
import { applySessionsPatchToStore } from "./patch/apply-patch-to-store.ts";
import { resolveSessionKeyFromResolveParams } from "./resolve.ts";

// A state dir last written by a real openclaw 2026.2.12 gateway (see the fixture's README in the
// shared fixtures): clawkeep must list it, resolve in it and patch it.
const fixture = new URL("./__fixtures__/openclaw-state", import.meta.url).pathname;

async function openFixture() {
  const stateDir = await copyFixtureDir(fixture);
  const { config } = await loadSessionsConfig({ stateDir, env: {} });
  return { stateDir, cfg: config, storePath: join(stateDir, "agents/main/sessions/sessions.json") };
}

describe("an openclaw 2026.2.12 state dir", () => {
  it("lists every session with titles and previews from its transcripts", async () => {
    const { stateDir, cfg } = await openFixture();
    const result = await listCombinedSessions({
      cfg,
      stateDir,
      env: {},
      opts: { includeDerivedTitles: true, includeLastMessage: true },
    });
    expect(SessionsListResultSchema.safeParse(result).error).toBeUndefined();
    expect(result).toMatchObject({ path: "(multiple)", count: 5, total: 5, nextOffset: null });
    expect(result).not.toHaveProperty("warnings");
    expect(
      result.sessions.map((row) => [row.key, row.kind, row.derivedTitle, row.lastMessagePreview]),
    ).toEqual([
      [
        "agent:main:discord:group:111222333444555666",
        "group",
        "discord:#ops",
        "assistant reply 499",
      ],
      ["agent:main:slack:channel:c0123456", "group", "460ea9b1 (2026-11-24)", undefined],
      ["agent:main:telegram:direct:999", "direct", "f9c6f9f7 (2026-11-24)", undefined],
      [
        "agent:main:telegram:direct:123456789",
        "direct",
        "Can you summarize my inbox?",
        "assistant reply 29",
      ],
      ["agent:main:main", "direct", "main session first message", "assistant reply 5"],
    ]);
    expect(result.sessions[0]).toMatchObject({
      displayName: "discord:#ops",
      channel: "discord",
      modelProvider: "anthropic",
      model: "claude-sonnet-4-5",
    });
    expect(result.sessions[1]).toMatchObject({ channel: "slack", displayName: "slack:g-c0123456" });
    expect(result.sessions[3]).toMatchObject({ displayName: "alice-renamed", totalTokens: 6200 });
  });

  it("resolves by session id and by label", async () => {
    const { stateDir, cfg } = await openFixture();
    const resolve = (params: object) =>
      resolveSessionKeyFromResolveParams({ cfg, params, stateDir, env: {} });
    expect(await resolve({ sessionId: "4eda5d03-5049-4ada-9b64-12039f15a4bc" })).toEqual({
      ok: true,
      key: "agent:main:telegram:direct:123456789",
    });
    expect(await resolve({ label: "created-by-patch" })).toEqual({
      ok: true,
      key: "agent:main:telegram:direct:999",
    });
  });

  it("patches through the store's update, and writes nothing for a rejected patch", async () => {
    const { stateDir, cfg, storePath } = await openFixture();
    const before = await readFile(storePath, "utf8");
    const target = resolveGatewaySessionStoreTarget({ cfg, key: "Telegram:Direct:999", stateDir });
    expect(target.canonicalKey).toBe("agent:main:telegram:direct:999");

    const rejected = await updateSessionStore(storePath, (draft) =>
      applySessionsPatchToStore({ cfg, store: draft, target, patch: { label: "to-reset" } }),
    );
    expect(rejected).toMatchObject({
      ok: false,
      error: { message: "label already in use: to-reset" },
    });
    expect(await readFile(storePath, "utf8")).toBe(before);

    const accepted = await updateSessionStore(storePath, (draft) =>
      applySessionsPatchToStore({
        cfg,
        store: draft,
        target,
        patch: { thinkingLevel: "medium", model: "openai/gpt-5.2" },
      }),
    );
    expect(accepted).toMatchObject({ ok: true, key: "agent:main:telegram:direct:999" });
    const store = await loadSessionStore(storePath);
    expect(store["agent:main:telegram:direct:999"]).toMatchObject({
      sessionId: "f9c6f9f7-583b-4636-9d99-9edcf5be422d",
      label: "created-by-patch",
      thinkingLevel: "medium",
      providerOverride: "openai",
      modelOverride: "gpt-5.2",
    });
    // The other sessions are written back as openclaw wrote them.
    expect(store["agent:main:main"]).toEqual(JSON.parse(before)["agent:main:main"]);
  });
});
