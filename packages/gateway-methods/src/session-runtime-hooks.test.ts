import { describe, expect, it } from "vitest";
import {
  IDLE_SESSION_RUNTIME,
  resolveSessionRuntimeHooks,
  stopSessionRuntime,
} from "./session-runtime-hooks.ts";

const target = { key: "agent:main:main", sessionId: "abc" };

describe("session runtime hooks", () => {
  it("default to a runtime where nothing runs", async () => {
    const hooks = resolveSessionRuntimeHooks();
    expect(await hooks.isSessionActive(target)).toBe(false);
    expect(await hooks.waitForIdle(target, 10)).toBe(true);
    await expect(stopSessionRuntime(hooks, target)).resolves.toBeUndefined();
  });

  it("fill in only what is missing and never change the defaults", () => {
    const isSessionActive = () => true;
    const hooks = resolveSessionRuntimeHooks({ isSessionActive });
    expect(hooks.isSessionActive).toBe(isSessionActive);
    expect(hooks.clearQueues).toBe(IDLE_SESSION_RUNTIME.clearQueues);
    expect(Object.isFrozen(IDLE_SESSION_RUNTIME)).toBe(true);
  });

  it("clear, stop, abort and wait in that order for an active session", async () => {
    const steps: string[] = [];
    let running = true;
    const hooks = resolveSessionRuntimeHooks({
      clearQueues: () => {
        steps.push("clearQueues");
      },
      stopSubagents: async () => {
        steps.push("stopSubagents");
      },
      isSessionActive: () => running,
      abortSession: () => {
        steps.push("abortSession");
        setTimeout(() => {
          running = false;
        }, 5);
      },
      waitForIdle: async (_target, timeoutMs) => {
        steps.push(`waitForIdle ${timeoutMs}`);
        const deadline = Date.now() + timeoutMs;
        while (running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
        return !running;
      },
    });
    await stopSessionRuntime(hooks, target, { timeoutMs: 200 });
    expect(steps).toEqual(["clearQueues", "stopSubagents", "abortSession", "waitForIdle 200"]);
  });

  it("fails with SESSION_ACTIVE and openclaw's text when the run outlives the wait", async () => {
    const hooks = resolveSessionRuntimeHooks({
      isSessionActive: () => true,
      waitForIdle: async (_target, timeoutMs) => {
        await new Promise((r) => setTimeout(r, timeoutMs));
        return false;
      },
    });
    await expect(stopSessionRuntime(hooks, target, { timeoutMs: 20 })).rejects.toMatchObject({
      code: "SESSION_ACTIVE",
      message: "Session agent:main:main is still active; try again in a moment.",
    });
  });
});
