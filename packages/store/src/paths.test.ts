import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import {
  resolveAgentSessionsDir,
  resolveHomeDir,
  resolveStateDirWithSource,
  resolveStorePath,
} from "./paths.ts";

describe("resolveStateDir", () => {
  it("prefers CLAWKEEP_STATE_DIR, then OPENCLAW_STATE_DIR", () => {
    expect(
      resolveStateDirWithSource({ env: { CLAWKEEP_STATE_DIR: "/a", OPENCLAW_STATE_DIR: "/b" } }),
    ).toEqual({ stateDir: "/a", source: "CLAWKEEP_STATE_DIR" });
    expect(resolveStateDirWithSource({ env: { OPENCLAW_STATE_DIR: "/b", HOME: "/h" } })).toEqual({
      stateDir: "/b",
      source: "OPENCLAW_STATE_DIR",
    });
  });

  it("expands ~ in the env values against HOME", () => {
    expect(
      resolveStateDirWithSource({ env: { CLAWKEEP_STATE_DIR: "~/state", HOME: "/h" } }),
    ).toEqual({ stateDir: "/h/state", source: "CLAWKEEP_STATE_DIR" });
  });

  it("keeps ~/.clawkeep once it exists, else picks up ~/.openclaw, else defaults to ~/.clawkeep", async () => {
    const home = await testdir();
    const env = { HOME: home };
    expect(resolveStateDirWithSource({ env })).toEqual({
      stateDir: join(home, ".clawkeep"),
      source: "default",
    });
    await mkdir(join(home, ".openclaw"));
    expect(resolveStateDirWithSource({ env })).toEqual({
      stateDir: join(home, ".openclaw"),
      source: "existing-openclaw",
    });
    await mkdir(join(home, ".clawkeep"));
    expect(resolveStateDirWithSource({ env })).toEqual({
      stateDir: join(home, ".clawkeep"),
      source: "existing-clawkeep",
    });
  });

  it("uses OPENCLAW_HOME over HOME, expanding its ~", () => {
    expect(
      resolveHomeDir({ env: { OPENCLAW_HOME: "/srv/openclaw-home", HOME: "/home/other" } }),
    ).toBe("/srv/openclaw-home");
    expect(resolveHomeDir({ env: { OPENCLAW_HOME: "~/x", HOME: "/home/other" } })).toBe(
      "/home/other/x",
    );
  });
});

describe("resolveAgentSessionsDir", () => {
  it("normalises the agent id", () => {
    expect(resolveAgentSessionsDir("Ops", { stateDir: "/s" })).toBe("/s/agents/ops/sessions");
    expect(resolveAgentSessionsDir(undefined, { stateDir: "/s" })).toBe("/s/agents/main/sessions");
    expect(
      resolveAgentSessionsDir(undefined, { env: { OPENCLAW_STATE_DIR: "/custom/state" } }),
    ).toBe("/custom/state/agents/main/sessions");
  });

  it("never leaves the agents dir, whatever the id", () => {
    expect(resolveAgentSessionsDir("../../etc", { stateDir: "/s" })).toBe("/s/agents/etc/sessions");
  });
});

describe("resolveStorePath", () => {
  it("defaults to the agent's sessions.json", () => {
    expect(resolveStorePath(undefined, { agentId: "ops", stateDir: "/s" })).toBe(
      "/s/agents/ops/sessions/sessions.json",
    );
  });

  it("substitutes {agentId} and expands ~ against OPENCLAW_HOME", () => {
    expect(
      resolveStorePath("~/.openclaw/agents/{agentId}/sessions/sessions.json", {
        agentId: "Research",
        env: { OPENCLAW_HOME: "/srv/openclaw-home", HOME: "/home/other" },
      }),
    ).toBe("/srv/openclaw-home/.openclaw/agents/research/sessions/sessions.json");
  });

  it("treats a template without {agentId} as one shared store", () => {
    expect(resolveStorePath("/data/shared.json", { agentId: "ops" })).toBe("/data/shared.json");
  });
});
