import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type SessionsState,
  startSessionsGateway,
  writeSessionsState,
} from "./__fixtures__/sessions-gateway.ts";
import { connectParams, type RawSocket, rawHandshake } from "./test-support.ts";

type Row = Record<string, unknown>;

let counter = 0;

async function rawCall(raw: RawSocket, method: string, params: unknown): Promise<Row> {
  counter += 1;
  raw.send({ type: "req", id: `h${counter}`, method, params });
  return await raw.nextResponse();
}

/** A gateway over the fixture state with `changes` written into its store file. */
async function gatewayWith(changes: Record<string, unknown>): Promise<{
  raw: RawSocket;
  state: SessionsState;
  gateway: Awaited<ReturnType<typeof startSessionsGateway>>;
}> {
  const state = await writeSessionsState();
  const store = JSON.parse(await readFile(state.storePath, "utf8")) as Record<string, unknown>;
  await writeFile(state.storePath, JSON.stringify({ ...store, ...changes }, null, 2));
  const gateway = await startSessionsGateway(state);
  const { raw } = await rawHandshake(gateway.url, connectParams());
  return { raw, state, gateway };
}

describe("entries that are not objects", () => {
  it("refuses patch and compact, resets and lists past them, and does not count them", async () => {
    const { raw, state, gateway } = await gatewayWith({ "agent:main:x": null, "agent:main:n": 7 });
    for (const method of ["sessions.patch", "sessions.compact"]) {
      expect(await rawCall(raw, method, { key: "agent:main:x" })).toMatchObject({
        ok: false,
        error: { code: "INVALID_REQUEST", message: "invalid session entry for agent:main:x" },
      });
    }
    expect(await rawCall(raw, "sessions.patch", { key: "x", label: "a" })).toMatchObject({
      ok: false,
      error: { code: "INVALID_REQUEST", message: "invalid session entry for agent:main:x" },
    });
    const stored = JSON.parse(await readFile(state.storePath, "utf8")) as Row;
    expect(stored["agent:main:x"]).toBeNull();
    expect(await rawCall(raw, "sessions.preview", { keys: ["agent:main:x"] })).toMatchObject({
      ok: true,
      payload: { previews: [{ key: "agent:main:x", status: "missing", items: [] }] },
    });
    const health = await gateway.server.health();
    expect(health.agents).toMatchObject([{ agentId: "main", sessions: 4 }]);
    // A reset replaces the value with a new session, as for a missing key.
    const reset = await rawCall(raw, "sessions.reset", { key: "agent:main:n" });
    expect(reset).toMatchObject({ ok: true, payload: { key: "agent:main:n" } });
    expect(await rawCall(raw, "sessions.delete", { key: "agent:main:x" })).toMatchObject({
      ok: true,
      payload: { deleted: false },
    });
  });
});

describe("keys", () => {
  it("canonicalises an agent segment with dots and slashes, so main stays protected", async () => {
    const { raw, state } = await gatewayWith({});
    expect(await rawCall(raw, "sessions.delete", { key: "agent:../main:main" })).toMatchObject({
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message: "Cannot delete the main session (agent:main:main).",
      },
    });
    expect(
      await rawCall(raw, "sessions.patch", { key: "agent:../../main:x", label: "dots" }),
    ).toMatchObject({ ok: true, payload: { key: "agent:main:x" } });
    const stored = JSON.parse(await readFile(state.storePath, "utf8")) as Row;
    expect(Object.keys(stored).filter((key) => key.includes(".."))).toEqual([]);
  });

  it("refuses keys longer than 512 characters", async () => {
    const { raw } = await gatewayWith({});
    const long = `agent:main:${"k".repeat(600)}`;
    expect(await rawCall(raw, "sessions.patch", { key: long, label: "x" })).toMatchObject({
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message: "invalid sessions.patch params: at /key: must NOT have more than 512 characters",
      },
    });
    expect(await rawCall(raw, "sessions.preview", { keys: ["main", long] })).toMatchObject({
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message:
          "invalid sessions.preview params: at /keys/1: must NOT have more than 512 characters",
      },
    });
    expect(await rawCall(raw, "sessions.reset", { key: "k".repeat(512) })).toMatchObject({
      ok: true,
    });
  });
});

describe("compaction under a lock path that is a directory", () => {
  it("answers TRANSCRIPT_LOCKED's wire code, naming the lock path", async () => {
    const { raw, state } = await gatewayWith({});
    const lockPath = join(state.sessionsDir, "sess-main.jsonl.lock");
    await mkdir(lockPath);
    const result = await rawCall(raw, "sessions.compact", { key: "main", maxLines: 2 });
    expect(result).toMatchObject({ ok: false, error: { code: "UNAVAILABLE", retryable: true } });
    expect(JSON.stringify(result)).toContain(lockPath);
  });
});
