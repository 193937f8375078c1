import { describe, expect, it } from "vitest";
import {
  classifySessionKeyShape,
  isAcpSessionKey,
  isCronRunSessionKey,
  isCronSessionKey,
  isSubagentSessionKey,
  isValidAgentId,
  isValidSessionId,
  normalizeAccountId,
  normalizeAgentId,
  normalizeMainKey,
  parseAgentSessionKey,
  validateSessionId,
} from "./ids.ts";

describe("normalizeAgentId", () => {
  it.each([
    ["Ops", "ops"],
    ["my agent!", "my-agent"],
    ["  ", "main"],
    ["", "main"],
    [undefined, "main"],
    ["__", "__"],
    ["--x--", "x"],
    ["!!!", "main"],
  ])("%j → %j", (input, expected) => {
    expect(normalizeAgentId(input)).toBe(expected);
  });

  it("cuts a long valid-charset id to its first 64 characters, lower-cased", () => {
    const id = `A${"b".repeat(69)}`;
    expect(id).toHaveLength(70);
    expect(normalizeAgentId(id)).toBe(`a${"b".repeat(63)}`);
  });
});

describe("normalizeAccountId", () => {
  it("uses the agent-id algorithm with the fallback default", () => {
    expect(normalizeAccountId(" Work ")).toBe("work");
    expect(normalizeAccountId("")).toBe("default");
    expect(normalizeAccountId(null)).toBe("default");
    expect(normalizeAccountId("my account")).toBe("my-account");
  });
});

describe("isValidAgentId", () => {
  it("accepts 1–64 characters starting with a letter or digit, any case", () => {
    expect(isValidAgentId("Ops")).toBe(true);
    expect(isValidAgentId("a".repeat(64))).toBe(true);
    expect(isValidAgentId("a".repeat(65))).toBe(false);
    expect(isValidAgentId("__")).toBe(false);
    expect(isValidAgentId("")).toBe(false);
  });
});

describe("normalizeMainKey", () => {
  it("trims, lower-cases and defaults to main", () => {
    expect(normalizeMainKey(" Work ")).toBe("work");
    expect(normalizeMainKey("")).toBe("main");
    expect(normalizeMainKey(undefined)).toBe("main");
  });
});

describe("parseAgentSessionKey", () => {
  it("needs three segments starting with agent", () => {
    expect(parseAgentSessionKey("agent:main")).toBeNull();
    expect(parseAgentSessionKey("global")).toBeNull();
    expect(parseAgentSessionKey("discord:group:1")).toBeNull();
  });

  it("keeps the agent id as written", () => {
    expect(parseAgentSessionKey("agent:Ops:discord:group:1")).toEqual({
      agentId: "Ops",
      rest: "discord:group:1",
    });
  });

  it("drops empty segments", () => {
    expect(parseAgentSessionKey(" agent::main::main ")).toEqual({ agentId: "main", rest: "main" });
  });

  it("classifies key shapes", () => {
    expect(classifySessionKeyShape("")).toBe("missing");
    expect(classifySessionKeyShape("agent:main:main")).toBe("agent");
    expect(classifySessionKeyShape("agent:main")).toBe("malformed_agent");
    expect(classifySessionKeyShape("main")).toBe("legacy_or_alias");
  });
});

describe("key predicates", () => {
  it("recognises cron run keys only with the agent prefix", () => {
    expect(isCronRunSessionKey("agent:main:cron:job1:run:r1")).toBe(true);
    expect(isCronRunSessionKey("agent:main:cron:job1")).toBe(false);
    expect(isCronRunSessionKey("cron:job1:run:r1")).toBe(false);
  });

  it("recognises sub-agent keys in both spellings and any case", () => {
    expect(isSubagentSessionKey("subagent:x")).toBe(true);
    expect(isSubagentSessionKey("agent:main:Subagent:x")).toBe(true);
    expect(isSubagentSessionKey("agent:main:main")).toBe(false);
  });
});

describe("more key predicates", () => {
  it("recognises cron keys with or without a run, and acp keys", () => {
    expect(isCronSessionKey("agent:main:cron:job1")).toBe(true);
    expect(isCronSessionKey("agent:main:cron:job1:run:r1")).toBe(true);
    expect(isCronSessionKey("cron:job1")).toBe(false);
    expect(isAcpSessionKey("agent:main:acp:x")).toBe(true);
    expect(isAcpSessionKey("acp:x")).toBe(false);
  });
});

describe("validateSessionId", () => {
  it("agrees with isValidSessionId", () => {
    expect(isValidSessionId(" sess-1 ")).toBe(true);
    expect(isValidSessionId("../x")).toBe(false);
  });

  it.each(["sess-1", "ABC_123.hello", "7c94f4fc-0bf5-49d9-9147-cb2d3a7ef3d7"])(
    "accepts %j",
    (id) => {
      expect(validateSessionId(id)).toBe(id);
    },
  );

  it.each(["../etc/passwd", "a/b", "a\\b", "/abs", "", ".hidden", "a".repeat(129), "a:b"])(
    "rejects %j with INVALID_ID",
    (id) => {
      expect(() => validateSessionId(id)).toThrow(expect.objectContaining({ code: "INVALID_ID" }));
      expect(() => validateSessionId(id)).toThrow(/Invalid session ID/);
    },
  );
});
