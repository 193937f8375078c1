import { writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { startSessionsGateway, writeSessionsState } from "./__fixtures__/sessions-gateway.ts";
import { GATEWAY_VERSION } from "./gateway-server.ts";
import { connectParams, rawHandshake, startTestGateway, TEST_TOKEN } from "./test-support.ts";

interface HttpAnswer {
  status: number | undefined;
  headers: Record<string, unknown>;
  body: string;
}

/** One plain HTTP request to the gateway's port, without any credentials. */
function plainHttp(port: number, method: string, path: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, method, path }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () =>
        resolve({ status: response.statusCode, headers: response.headers, body }),
      );
    });
    request.on("error", reject);
    request.end();
  });
}

describe("health method", () => {
  it("reports uptime, version, state dir and each agent store's session count", async () => {
    const state = await writeSessionsState();
    const gateway = await startSessionsGateway(state);
    const reader = await gateway.connect(["operator.read"]);
    expect(reader.hello.features.methods).toContain("health");

    const health = await reader.call<Record<string, unknown>>("health", {});
    expect(health).toEqual({
      ok: true,
      ts: expect.any(Number),
      uptimeMs: expect.any(Number),
      version: GATEWAY_VERSION,
      stateDir: state.stateDir,
      agents: [{ agentId: "main", storePath: state.storePath, sessions: 4 }],
    });
    // No session key is ever part of it.
    expect(JSON.stringify(health)).not.toContain("agent:main:main");

    const admin = await gateway.connect();
    await admin.call("sessions.patch", { key: "agent:main:telegram:direct:7", label: "new" });
    const after = await reader.call<{ agents: unknown[] }>("health");
    expect(after.agents).toEqual([{ agentId: "main", storePath: state.storePath, sessions: 5 }]);
  });

  it("names an unreadable store instead of failing", async () => {
    const state = await writeSessionsState();
    await writeFile(state.storePath, "{ not json");
    const gateway = await startSessionsGateway(state);
    const client = await gateway.connect(["operator.read"]);
    await expect(client.call("health")).resolves.toMatchObject({
      ok: true,
      agents: [
        { agentId: "main", storePath: state.storePath, sessions: null, error: "STORE_CORRUPT" },
      ],
    });
  });

  it("needs a read scope like any read method", async () => {
    const stateDir = await testdir();
    const { server, url } = await startTestGateway({ stateDir });
    onTestFinished(() => server.close());
    const { raw } = await rawHandshake(url, connectParams({ scopes: [] }));
    raw.send({ type: "req", id: "h", method: "health" });
    expect(await raw.nextResponse()).toEqual({
      type: "res",
      id: "h",
      ok: false,
      error: { code: "INVALID_REQUEST", message: "missing scope: operator.read" },
    });
  });
});

describe("GET /healthz", () => {
  it("answers 200 with liveness JSON, without auth and without anything private", async () => {
    const stateDir = await testdir();
    const { server, port } = await startTestGateway({ stateDir });
    onTestFinished(() => server.close());

    const answer = await plainHttp(port, "GET", "/healthz");
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(answer.headers["cache-control"]).toBe("no-store");
    const body = JSON.parse(answer.body) as Record<string, unknown>;
    expect(body).toEqual({
      ok: true,
      ts: expect.any(Number),
      uptimeMs: expect.any(Number),
      version: GATEWAY_VERSION,
    });
    expect(answer.body).not.toContain(stateDir);
    expect(answer.body).not.toContain(TEST_TOKEN);

    expect((await plainHttp(port, "GET", "/healthz?probe=1")).status).toBe(200);
    const head = await plainHttp(port, "HEAD", "/healthz");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
  });

  it("leaves every other plain HTTP request with 426", async () => {
    const stateDir = await testdir();
    const { server, port } = await startTestGateway({ stateDir });
    onTestFinished(() => server.close());
    for (const [method, path] of [
      ["GET", "/"],
      ["GET", "/healthz/extra"],
      ["POST", "/healthz"],
    ] as const) {
      const answer = await plainHttp(port, method, path);
      expect(answer.status, `${method} ${path}`).toBe(426);
      expect(answer.body).toBe("this is a WebSocket endpoint (gateway protocol v3)\n");
    }
  });
});
