#!/usr/bin/env node
// The main job until the gateway lands: a summary of the session stores in the state dir.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { loadSessionStore, resolveStateDirWithSource } from "../packages/store/dist/index.js";

const { stateDir, source } = resolveStateDirWithSource();
console.error(`clawkeep: state dir ${stateDir} (${source})`);

let agents = [];
try {
  agents = (await readdir(join(stateDir, "agents"), { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
} catch (error) {
  if (error.code !== "ENOENT") throw error;
}
if (agents.length === 0) {
  console.log("no agents yet: nothing to summarise (the gateway will create stores on first use)");
  process.exit(0);
}
let failed = false;
for (const agentId of agents) {
  const storePath = join(stateDir, "agents", agentId, "sessions", "sessions.json");
  try {
    const store = await loadSessionStore(storePath);
    const keys = Object.keys(store);
    console.log(`${agentId.padEnd(20)} ${String(keys.length).padStart(6)} sessions  ${storePath}`);
  } catch (error) {
    failed = true;
    console.log(`${agentId.padEnd(20)}  error: ${error.message}`);
  }
}
process.exit(failed ? 1 : 0);
