import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { resolveConfiguredModel, resolveDefaultAgentId, resolveDefaultModel } from "./agents.ts";
import { loadSessionsConfig, resolveConfigPath } from "./load-sessions-config.ts";
import { createDefaultSessionsConfig, parseSessionsConfig } from "./sessions-config.ts";

function parse(raw: unknown) {
  const result = parseSessionsConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

describe("loadSessionsConfig", () => {
  it("returns the defaults when the file does not exist", async () => {
    const stateDir = await testdir();
    const loaded = await loadSessionsConfig({ stateDir, env: {} });
    expect(loaded.found).toBe(false);
    expect(loaded.configPath).toBe(join(stateDir, "openclaw.json"));
    expect(loaded.stateDir).toBe(stateDir);
    expect(loaded.config).toEqual(createDefaultSessionsConfig());
    expect(loaded.config.session).toEqual({
      scope: "per-sender",
      mainKey: "main",
      dmScope: "main",
    });
    expect(loaded.config.agents.list).toEqual([]);
  });

  it("reads JSON5 (comments, trailing commas, unquoted keys) and ignores unknown keys", async () => {
    const stateDir = await testdir({
      "openclaw.json": `{
        // openclaw configs carry much more than sessions read
        channels: { telegram: { botToken: "x" } },
        session: { scope: "global", mainKey: " Work ", store: "~/s/{agentId}.json", dmScope: "per-peer",
                   maintenance: { mode: "enforce", pruneAfter: "7d" }, reset: { mode: "daily" }, },
        agents: {
          list: [{ id: "Ops", default: true, workspace: "/x" }, { id: "alpha" }],
          defaults: {
            model: { primary: "openai/gpt-5.2", fallbacks: ["anthropic/claude-opus-4-6"] },
            models: { "openai/gpt-5.2": { alias: "gpt" }, "anthropic/claude-opus-4-6": {} },
            contextTokens: 123000,
          },
        },
        gateway: { auth: { token: "secret", mode: "token" }, port: 18789 },
      }`,
    });
    const { config, found } = await loadSessionsConfig({ stateDir, env: {} });
    expect(found).toBe(true);
    expect(config.session).toEqual({
      scope: "global",
      mainKey: "work",
      store: "~/s/{agentId}.json",
      dmScope: "per-peer",
      maintenance: { mode: "enforce", pruneAfter: "7d" },
    });
    expect(config.agents.list).toEqual([{ id: "ops", default: true }, { id: "alpha" }]);
    expect(config.agents.defaults.model).toEqual({
      primary: "openai/gpt-5.2",
      fallbacks: ["anthropic/claude-opus-4-6"],
    });
    expect(config.agents.defaults.models).toEqual([
      { key: "openai/gpt-5.2", provider: "openai", model: "gpt-5.2", alias: "gpt" },
      {
        key: "anthropic/claude-opus-4-6",
        provider: "anthropic",
        model: "claude-opus-4-6",
      },
    ]);
    expect(config.agents.defaults.contextTokens).toBe(123000);
    expect(config.gateway.auth.token).toBe("secret");
  });

  it("finds the file through CLAWKEEP_CONFIG_PATH before OPENCLAW_CONFIG_PATH", async () => {
    const dir = await testdir({
      "a.json5": { session: { mainKey: "from-clawkeep" } },
      "b.json5": { session: { mainKey: "from-openclaw" } },
    });
    const both = {
      CLAWKEEP_CONFIG_PATH: join(dir, "a.json5"),
      OPENCLAW_CONFIG_PATH: join(dir, "b.json5"),
    };
    expect((await loadSessionsConfig({ stateDir: dir, env: both })).config.session.mainKey).toBe(
      "from-clawkeep",
    );
    const openclawOnly = { OPENCLAW_CONFIG_PATH: join(dir, "b.json5") };
    expect(resolveConfigPath({ stateDir: dir, env: openclawOnly })).toBe(join(dir, "b.json5"));
    expect(
      (await loadSessionsConfig({ stateDir: dir, env: openclawOnly })).config.session.mainKey,
    ).toBe("from-openclaw");
  });

  it("lets the caller override file values, validated with them", async () => {
    const stateDir = await testdir({
      "openclaw.json": { session: { scope: "global", mainKey: "work" } },
    });
    const { config } = await loadSessionsConfig({
      stateDir,
      env: {},
      overrides: { session: { scope: "per-sender" } },
    });
    expect(config.session.scope).toBe("per-sender");
    expect(config.session.mainKey).toBe("work");
    await expect(
      loadSessionsConfig({
        stateDir,
        env: {},
        overrides: { session: { scope: "nope" as "global" } },
      }),
    ).rejects.toMatchObject({ code: "INVALID_CONFIG", details: { path: "session.scope" } });
  });

  it.each([
    [
      { session: { scope: "per-user" } },
      "session.scope",
      'session.scope: expected "per-sender" | "global"',
    ],
    [{ session: { dmScope: "x" } }, "session.dmScope", "session.dmScope: expected"],
    [{ session: 5 }, "session", "session: expected an object"],
    [
      { agents: { list: [{ default: true }] } },
      "agents.list[0].id",
      "agents.list[0].id: expected a string",
    ],
    [{ agents: { defaults: { contextTokens: -1 } } }, "agents.defaults.contextTokens", "positive"],
    [
      { agents: { defaults: { models: { "gpt-5": {} } } } },
      'agents.defaults.models["gpt-5"]',
      'expected a "provider/model" key',
    ],
    [{ agents: { defaults: { model: 42 } } }, "agents.defaults.model", 'expected "provider/model"'],
    [
      { gateway: { auth: { token: 1 } } },
      "gateway.auth.token",
      "gateway.auth.token: expected a string",
    ],
    [
      { session: { maintenance: { mode: "enforc" } } },
      "session.maintenance.mode",
      'session.maintenance.mode: expected "warn" | "enforce"',
    ],
    [{ session: { maintenance: "enforce" } }, "session.maintenance", "expected an object"],
    [
      { session: { maintenance: { pruneAfter: true } } },
      "session.maintenance.pruneAfter",
      "session.maintenance.pruneAfter: expected a duration",
    ],
    [
      { session: { maintenance: { pruneDays: "7" } } },
      "session.maintenance.pruneDays",
      "session.maintenance.pruneDays: expected a number",
    ],
    [
      { session: { maintenance: { maxEntries: 0 } } },
      "session.maintenance.maxEntries",
      "session.maintenance.maxEntries: expected a positive integer",
    ],
    [
      { session: { maintenance: { maxEntries: 2.5 } } },
      "session.maintenance.maxEntries",
      "expected an integer",
    ],
    [
      { session: { maintenance: { rotateBytes: [10] } } },
      "session.maintenance.rotateBytes",
      "session.maintenance.rotateBytes: expected a size",
    ],
  ])("rejects %j naming %s", async (content, path, text) => {
    const stateDir = await testdir({ "openclaw.json": content });
    const promise = loadSessionsConfig({ stateDir, env: {} });
    await expect(promise).rejects.toMatchObject({ code: "INVALID_CONFIG", details: { path } });
    await expect(promise).rejects.toThrow(text);
  });

  it("names the file and position of a file that is not JSON5", async () => {
    const stateDir = await testdir({ "openclaw.json": "{\n  session: { scope: global }\n}" });
    const file = join(stateDir, "openclaw.json");
    const promise = loadSessionsConfig({ stateDir, env: {} });
    await expect(promise).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      details: { file, line: 2 },
    });
    await expect(promise).rejects.toThrow(`invalid config file ${file}: not valid JSON5 at line 2`);
  });

  it("rejects a file whose top level is not an object", async () => {
    const stateDir = await testdir({ "openclaw.json": "[1, 2]" });
    await expect(loadSessionsConfig({ stateDir, env: {} })).rejects.toMatchObject({
      code: "INVALID_CONFIG",
    });
  });
});

describe("resolveDefaultAgentId", () => {
  it("takes the first agent marked default, else the first, else main", () => {
    expect(resolveDefaultAgentId(parse({}))).toBe("main");
    expect(resolveDefaultAgentId(parse({ agents: { list: [{ id: "a" }, { id: "b" }] } }))).toBe(
      "a",
    );
    expect(
      resolveDefaultAgentId(
        parse({
          agents: { list: [{ id: "a" }, { id: "B", default: true }, { id: "c", default: true }] },
        }),
      ),
    ).toBe("b");
  });
});

describe("resolveDefaultModel", () => {
  it("falls back to anthropic/claude-opus-4-6", () => {
    expect(resolveDefaultModel(parse({}))).toEqual({
      provider: "anthropic",
      model: "claude-opus-4-6",
    });
  });

  it("reads a provider/model string, a primary, or an alias", () => {
    expect(
      resolveDefaultModel(parse({ agents: { defaults: { model: "openai/gpt-5.2" } } })),
    ).toEqual({ provider: "openai", model: "gpt-5.2" });
    expect(
      resolveDefaultModel(
        parse({ agents: { defaults: { model: { primary: "OpenAI/gpt-5.2" } } } }),
      ),
    ).toEqual({ provider: "openai", model: "gpt-5.2" });
    expect(
      resolveDefaultModel(
        parse({
          agents: {
            defaults: { model: "fast", models: { "openai/gpt-5-mini": { alias: "Fast" } } },
          },
        }),
      ),
    ).toEqual({ provider: "openai", model: "gpt-5-mini" });
  });
});

describe("resolveConfiguredModel", () => {
  const open = parse({});
  const listed = parse({
    agents: {
      defaults: {
        model: "anthropic/claude-opus-4-6",
        models: { "openai/gpt-5.2": { alias: "gpt" }, "openai/GPT-Test": {} },
      },
    },
  });

  it("accepts any well-formed provider/model without an allowlist", () => {
    expect(resolveConfiguredModel(open, " openrouter/meta/llama-4 ")).toEqual({
      ok: true,
      ref: { provider: "openrouter", model: "meta/llama-4" },
    });
  });

  it("rejects a bare name that is no configured alias, and empty input", () => {
    expect(resolveConfiguredModel(open, "gpt-5.2")).toEqual({
      ok: false,
      message: "invalid model: gpt-5.2",
    });
    expect(resolveConfiguredModel(open, "openai/")).toEqual({
      ok: false,
      message: "invalid model: openai/",
    });
    expect(resolveConfiguredModel(open, "  ")).toEqual({
      ok: false,
      message: "invalid model: empty",
    });
  });

  it("resolves aliases and enforces the allowlist, the default always allowed", () => {
    expect(resolveConfiguredModel(listed, "GPT")).toEqual({
      ok: true,
      ref: { provider: "openai", model: "gpt-5.2" },
    });
    expect(resolveConfiguredModel(listed, "openai/gpt-test")).toEqual({
      ok: true,
      ref: { provider: "openai", model: "GPT-Test" },
    });
    expect(resolveConfiguredModel(listed, "anthropic/claude-opus-4-6")).toMatchObject({ ok: true });
    expect(resolveConfiguredModel(listed, "openai/gpt-4o")).toEqual({
      ok: false,
      message: "model not allowed: openai/gpt-4o",
    });
  });
});
