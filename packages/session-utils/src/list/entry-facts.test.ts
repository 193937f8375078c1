import {
  isCronRunSessionKey,
  normalizeAgentId,
  parseAgentSessionKey,
  type SessionEntry,
} from "@clawkeep/schema";
import { describe, expect, it } from "vitest";
import { parseGroupKey } from "../keys/session-keys.ts";
import { getEntryFacts } from "./entry-facts.ts";

describe("getEntryFacts", () => {
  it.each([
    "agent:main:main",
    "agent:Ops:Discord:Group:DevTeam",
    "agent:ops:discord:group:a:b:c",
    "agent:main:cron:job1:run:r1",
    "agent:main:Cron:job1:Run:r1",
    "agent:main:cron:job1",
    "cron:job1:run:r1",
    "agent:main",
    "agent:main:",
    "agent::main:x",
    " agent:main:slack:channel:c1 ",
    "discord:group:dev",
    "discord:group",
    "whatsapp:group:12345-678@g.us",
    "foo:bar",
    "global",
    "a:b:c",
    ":slack:channel:x",
  ])("agrees with the general key parsers for %j", (key) => {
    const facts = getEntryFacts(key, { sessionId: "s", updatedAt: 1 });
    const parsed = parseAgentSessionKey(key);
    expect(facts.agentId).toBe(parsed === null ? null : normalizeAgentId(parsed.agentId));
    expect(facts.group).toEqual(parseGroupKey(key));
    expect(facts.isCronRun).toBe(isCronRunSessionKey(key));
  });

  it("recomputes when a cached entry was changed in place", () => {
    const entry: SessionEntry = { sessionId: "s", updatedAt: 1, label: "before" };
    expect(getEntryFacts("agent:main:x", entry).searchText).toContain("before");
    entry.label = "after";
    expect(getEntryFacts("agent:main:x", entry).searchText).toContain("after");
    expect(getEntryFacts("agent:main:y", entry).key).toBe("agent:main:y");
  });
});
