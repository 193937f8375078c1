import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { createFileSessionStore } from "./file-session-store.ts";
import { createMemorySessionStore } from "./memory-session-store.ts";
import { describeSessionStoreContract } from "./testing.ts";

describeSessionStoreContract("memory", () => createMemorySessionStore());

describeSessionStoreContract("file", async () =>
  createFileSessionStore(join(await testdir(), "agents", "main", "sessions", "sessions.json"), {
    watchDebounceMs: 10,
  }),
);
