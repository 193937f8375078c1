import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { createJsonLinesLogger, formatLogLine } from "./json-lines-logger.ts";
import {
  connectParams,
  openRaw,
  rawHandshake,
  startTestGateway,
  TEST_TOKEN,
} from "./test-support.ts";

type LogRecord = Record<string, unknown>;

/** A gateway whose log lines are captured as written. */
async function loggedGateway() {
  const stateDir = await testdir();
  const lines: string[] = [];
  const logger = createJsonLinesLogger({ write: (line) => lines.push(line), now: () => 1234 });
  const started = await startTestGateway({ stateDir, logger });
  onTestFinished(() => started.server.close());
  const records = () => lines.map((line) => JSON.parse(line) as LogRecord);
  return { ...started, lines, records };
}

describe("request log", () => {
  it("writes exactly one JSON line per request, without its params", async () => {
    const { url, lines, records } = await loggedGateway();
    const { raw } = await rawHandshake(url);
    raw.send({ type: "req", id: "echo-1", method: "test.echo", params: { text: "param-value" } });
    expect(await raw.nextResponse()).toMatchObject({ id: "echo-1", ok: true });
    raw.send({ type: "req", id: "nope-1", method: "test.nope", params: { text: "other-value" } });
    expect(await raw.nextResponse()).toMatchObject({ id: "nope-1", ok: false });

    for (const line of lines) expect(line).not.toContain("\n");
    const echo = records().filter((record) => record.id === "echo-1");
    expect(echo).toEqual([
      {
        ts: 1234,
        level: "info",
        msg: "request",
        connId: expect.any(String),
        id: "echo-1",
        method: "test.echo",
        durationMs: expect.any(Number),
        ok: true,
      },
    ]);
    expect(records().filter((record) => record.id === "nope-1")).toEqual([
      {
        ts: 1234,
        level: "warn",
        msg: "request",
        connId: echo[0]?.connId,
        id: "nope-1",
        method: "test.nope",
        durationMs: expect.any(Number),
        ok: false,
        code: "INVALID_REQUEST",
      },
    ]);
    const output = lines.join("\n");
    expect(output).not.toContain("param-value");
    expect(output).not.toContain("other-value");
  });

  it("logs a connect with its outcome but never the token it carried", async () => {
    const { url, lines, records } = await loggedGateway();
    await rawHandshake(url, connectParams({ auth: { token: TEST_TOKEN } }));
    const wrong = await openRaw(url);
    await wrong.next();
    const wrongToken = "wrong-token-4f1c9a";
    wrong.send({
      type: "req",
      id: "c-wrong",
      method: "connect",
      params: connectParams({ auth: { token: wrongToken } }),
    });
    expect(await wrong.next()).toMatchObject({ ok: false });
    await wrong.closed;

    const connects = records().filter((record) => record.method === "connect");
    expect(connects).toEqual([
      expect.objectContaining({ msg: "request", id: "connect-1", ok: true, level: "info" }),
      expect.objectContaining({ id: "c-wrong", ok: false, code: "INVALID_REQUEST" }),
    ]);
    const output = lines.join("\n");
    expect(output).not.toContain(TEST_TOKEN);
    expect(output).not.toContain(wrongToken);
  });
});

describe("JSON lines logger", () => {
  it("writes one object per line with ts, level and msg first", () => {
    const lines: string[] = [];
    const logger = createJsonLinesLogger({ write: (line) => lines.push(line), now: () => 5 });
    logger.debug("hidden");
    logger.info("shown", { count: 2, skipped: undefined, msg: "not a replacement" });
    logger.error("failed", { error: new Error("multi\nline") });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('{"ts":5,"level":"info","msg":"shown","count":2}');
    expect(JSON.parse(lines[1] ?? "")).toMatchObject({ level: "error", msg: "failed" });
    expect(lines[1]).not.toContain("\n");

    const verbose: string[] = [];
    createJsonLinesLogger({ verbose: true, write: (line) => verbose.push(line) }).debug("seen");
    expect(verbose).toHaveLength(1);
  });

  it("keeps a line whose field JSON cannot encode", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const line = formatLogLine("warn", "odd", { cycle, big: 10n }, 1);
    expect(JSON.parse(line)).toEqual({
      ts: 1,
      level: "warn",
      msg: "odd",
      cycle: "[object Object]",
      big: "10",
    });
  });
});
