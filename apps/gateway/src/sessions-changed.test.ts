import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GatewayClient } from "@clawkeep/gateway-client";
import { updateSessionStore } from "@clawkeep/store";
import { describe, expect, it } from "vitest";
import {
  startSessionsGateway,
  transcriptLines,
  userText,
  writeSessionsState,
} from "./__fixtures__/sessions-gateway.ts";

type Frame = Record<string, unknown>;

/** Every `sessions.changed` frame a client receives, whole (to check that it has no `seq`). */
function recordChanges(client: GatewayClient): Frame[] {
  const frames: Frame[] = [];
  client.on("sessions.changed", (_payload, frame) => {
    frames.push(frame as unknown as Frame);
  });
  return frames;
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Long enough for a late duplicate (the directory watcher's debounce is 20 ms here). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 250));

function change(key: string, action: string): Frame {
  return {
    type: "event",
    event: "sessions.changed",
    payload: { key, agentId: "main", action, ts: expect.any(Number) },
  };
}

describe("sessions.changed", () => {
  it("reaches subscribers only, once per change, without seq, for every method", async () => {
    const state = await writeSessionsState();
    await writeFile(
      join(state.sessionsDir, "sess-main.jsonl"),
      transcriptLines(
        "sess-main",
        Array.from({ length: 6 }, (_, index) => userText(`m${index}`)),
      ),
    );
    const gateway = await startSessionsGateway(state);
    const subscriber = await gateway.connect(["operator.read"]);
    const bystander = await gateway.connect(["operator.read"]);
    const writer = await gateway.connect();
    const seen = recordChanges(subscriber);
    const unseen = recordChanges(bystander);
    expect(await subscriber.call("sessions.subscribe", {})).toEqual({ ok: true, subscribed: true });

    await writer.call("sessions.patch", { key: "main", thinkingLevel: "high" });
    await writer.call("sessions.patch", { key: "telegram:direct:7", label: "new" });
    await writer.call("sessions.reset", { key: "agent:main:subagent:one" });
    await writer.call("sessions.compact", { key: "main", maxLines: 2 });
    await writer.call("sessions.delete", { key: "discord:group:dev" });
    // Changes that commit nothing are not reported.
    await writer.call("sessions.compact", { key: "main", maxLines: 2 });
    await expect(
      writer.call("sessions.patch", { key: "main", thinkingLevel: "banana" }),
    ).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    await writer.call("sessions.delete", { key: "discord:group:dev" });
    await settle();

    expect(seen).toEqual([
      change("agent:main:main", "patched"),
      change("agent:main:telegram:direct:7", "created"),
      change("agent:main:subagent:one", "reset"),
      change("agent:main:main", "compacted"),
      change("agent:main:discord:group:dev", "deleted"),
    ]);
    expect(unseen).toEqual([]);

    expect(await subscriber.call("sessions.unsubscribe", {})).toEqual({
      ok: true,
      subscribed: false,
    });
    await writer.call("sessions.patch", { key: "main", thinkingLevel: "low" });
    await settle();
    expect(seen).toHaveLength(5);
  });

  it("reports a write by another writer of this process once", async () => {
    const state = await writeSessionsState();
    const gateway = await startSessionsGateway(state);
    const subscriber = await gateway.connect(["operator.read"]);
    const seen = recordChanges(subscriber);
    await subscriber.call("sessions.subscribe", {});
    await updateSessionStore(state.storePath, (draft) => {
      draft["agent:main:cron:nightly"] = { sessionId: "sess-cron", updatedAt: Date.now() };
      delete draft.global;
    });
    await waitFor(() => seen.length >= 2);
    await settle();
    expect(seen).toEqual([
      change("agent:main:cron:nightly", "created"),
      change("global", "deleted"),
    ]);
  });

  it("reports a rewrite of the file noticed by the directory watcher", async () => {
    const state = await writeSessionsState();
    const gateway = await startSessionsGateway(state);
    const subscriber = await gateway.connect(["operator.read"]);
    const seen = recordChanges(subscriber);
    await subscriber.call("sessions.subscribe", {});
    // Written as openclaw does without our store: a new file renamed over the old one.
    const store = {
      "agent:main:main": { sessionId: "sess-main", updatedAt: Date.now(), label: "renamed" },
      global: { sessionId: "sess-global", updatedAt: 1 },
    };
    const temp = join(state.sessionsDir, "sessions.json.999.tmp");
    await writeFile(temp, JSON.stringify(store, null, 2));
    const { rename } = await import("node:fs/promises");
    await rename(temp, state.storePath);
    await waitFor(() => seen.length >= 4);
    await settle();
    expect(seen).toEqual(
      expect.arrayContaining([
        change("agent:main:main", "patched"),
        change("global", "patched"),
        change("agent:main:discord:group:dev", "deleted"),
        change("agent:main:subagent:one", "deleted"),
      ]),
    );
    expect(seen).toHaveLength(4);
  });
});
