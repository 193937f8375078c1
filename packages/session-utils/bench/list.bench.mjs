// Listing benchmark for @clawkeep/session-utils, run against the built dist/ (`pnpm build` first):
//   node bench/list.bench.mjs
// Writes three agent stores (10k and 50k entries in total) into a temporary state dir, then times
// sessions.list over the combined view: the default page, a text search, a label filter, and
// pages with derived titles alone (one transcript read per row) and with last-message previews
// as well (two reads per row); small transcripts are written for the rows those pages return.
// Prints a Markdown table of medians and p95s.
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { updateSessionStore } from "@clawkeep/store";
import {
  listCombinedSessions,
  listSessionsFromStore,
  loadCombinedSessionStore,
  parseSessionsConfig,
} from "../dist/index.js";

const SIZES = [10_000, 50_000];
const AGENTS = ["main", "ops", "research"];
const RUNS = 30;
const WARMUP = 5;
const NOW = Date.parse("2026-02-12T12:00:00Z");
const CHANNELS = ["telegram", "discord", "slack", "whatsapp", "signal"];
const NAMES = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"];

function makeEntry(index, agentId) {
  const channel = CHANNELS[index % CHANNELS.length];
  const name = NAMES[index % NAMES.length];
  const sessionId = randomUUID();
  const updatedAt = NOW - index * 7_919;
  const group = index % 4 === 0;
  const key = group
    ? `agent:${agentId}:${channel}:group:g${index}`
    : `agent:${agentId}:${channel}:direct:${100_000 + index}`;
  const entry = {
    sessionId,
    updatedAt,
    systemSent: true,
    abortedLastRun: false,
    chatType: group ? "group" : "direct",
    channel,
    inputTokens: index % 5_000,
    outputTokens: index % 700,
    totalTokens: (index % 5_000) + (index % 700),
    origin: {
      label: `${name} id:${index}`,
      provider: channel,
      chatType: group ? "group" : "direct",
    },
    deliveryContext: { channel, to: `${channel}:${index}` },
    lastChannel: channel,
    lastTo: `${channel}:${index}`,
  };
  if (group) entry.subject = `${name}'s team ${index}`;
  if (index % 10 === 0) entry.label = `label-${index}`;
  if (index % 25 === 0) entry.displayName = `Project ${name} ${index}`;
  return { key, entry };
}

async function writeStores(stateDir, total) {
  const perAgent = Math.ceil(total / AGENTS.length);
  let written = 0;
  for (const [agentIndex, agentId] of AGENTS.entries()) {
    const store = {};
    for (let index = 0; index < perAgent && written < total; index += 1, written += 1) {
      const { key, entry } = makeEntry(index * AGENTS.length + agentIndex, agentId);
      store[key] = entry;
    }
    const dir = join(stateDir, "agents", agentId, "sessions");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "sessions.json"), JSON.stringify(store, null, 2));
  }
}

async function writeTranscripts(stateDir, rows) {
  for (const row of rows) {
    const agentId = row.key.split(":")[1];
    const dir = join(stateDir, "agents", agentId, "sessions");
    const lines = [
      {
        type: "session",
        version: 3,
        id: row.sessionId,
        timestamp: "2026-02-12T09:00:00.000Z",
        cwd: "/",
      },
      {
        type: "message",
        id: "a1",
        parentId: null,
        timestamp: "2026-02-12T09:00:01.000Z",
        message: {
          role: "user",
          content: `Can you help me plan the ${row.key} rollout?`,
          timestamp: 1,
        },
      },
      {
        type: "message",
        id: "a2",
        parentId: "a1",
        timestamp: "2026-02-12T09:00:02.000Z",
        message: {
          role: "assistant",
          content: [{ type: "text", text: "Here is a plan in three steps." }],
          timestamp: 2,
        },
      },
    ];
    await writeFile(
      join(dir, `${row.sessionId}.jsonl`),
      `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`,
    );
  }
}

async function measure(run) {
  for (let index = 0; index < WARMUP; index += 1) await run();
  const times = [];
  let result;
  for (let index = 0; index < RUNS; index += 1) {
    const start = performance.now();
    result = await run();
    // A run may time only part of its work (after a setup step) and report it as `elapsed`.
    times.push(result.elapsed ?? performance.now() - start);
  }
  times.sort((left, right) => left - right);
  const pick = (fraction) => times[Math.min(times.length - 1, Math.floor(fraction * times.length))];
  if (result !== undefined) delete result.elapsed;
  return { median: pick(0.5), p95: pick(0.95), result };
}

const format = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

async function main() {
  const parsed = parseSessionsConfig({
    agents: { list: AGENTS.map((id, index) => ({ id, default: index === 0 })) },
  });
  if (!parsed.ok) throw new Error("bench config invalid");
  const cfg = parsed.config;
  const table = [
    "| entries | scenario | rows | total | median ms | p95 ms |",
    "| ---: | --- | ---: | ---: | ---: | ---: |",
  ];
  const root = await mkdtemp(join(tmpdir(), "clawkeep-list-bench-"));
  try {
    for (const size of SIZES) {
      const stateDir = join(root, String(size));
      await writeStores(stateDir, size);
      const env = {};
      const coldStart = performance.now();
      const combined = await loadCombinedSessionStore({ cfg, stateDir, env });
      const cold = performance.now() - coldStart;
      table.push(
        `| ${size} | load the 3 stores and combine them (cold, once) | | ${Object.keys(combined.store).length} | ${format(cold)} | |`,
      );

      const list = (opts) => () =>
        listSessionsFromStore({
          cfg,
          storePath: combined.path,
          store: combined.store,
          opts,
          stateDir,
          env,
          now: () => NOW,
        });
      const firstStart = performance.now();
      await list({ search: "alice", limit: 50 })();
      const first = performance.now() - firstStart;
      table.push(
        `| ${size} | first search after the load (sorts, derives search texts) | | | ${format(first)} | |`,
      );
      const scenarios = [
        ["default list, limit 50", list({ limit: 50 })],
        ["default list, limit 50, offset 5000", list({ limit: 50, offset: 5_000 })],
        ['search "alice" (many matches), limit 50', list({ search: "alice", limit: 50 })],
        [
          'search "project frank 1" (few matches), limit 50',
          list({ search: "project frank 1", limit: 50 }),
        ],
        ["label filter", list({ label: "label-1230" })],
        [
          "agentId ops + activeMinutes 1440, limit 50",
          list({ agentId: "ops", activeMinutes: 1_440, limit: 50 }),
        ],
      ];
      for (const [name, run] of scenarios) {
        const { median, p95, result } = await measure(run);
        table.push(
          `| ${size} | ${name} | ${result.count} | ${result.total} | ${format(median)} | ${format(p95)} |`,
        );
      }

      const titled = { limit: 50, includeDerivedTitles: true, includeLastMessage: true };
      const firstPage = await list({ limit: 50 })();
      await writeTranscripts(stateDir, firstPage.sessions);
      const searchPage = await list({ search: "alice", limit: 50 })();
      await writeTranscripts(stateDir, searchPage.sessions);
      for (const [name, run] of [
        ["limit 50 + derived titles only", list({ limit: 50, includeDerivedTitles: true })],
        ["limit 50 + derived titles + last message", list(titled)],
        ['search "alice" + derived titles + last message', list({ ...titled, search: "alice" })],
      ]) {
        const { median, p95, result } = await measure(run);
        table.push(
          `| ${size} | ${name} | ${result.count} | ${result.total} | ${format(median)} | ${format(p95)} |`,
        );
      }

      const endToEnd = await measure(() =>
        listCombinedSessions({ cfg, stateDir, env, opts: { search: "alice", limit: 50 } }),
      );
      table.push(
        `| ${size} | search "alice" end to end (load stores + combine + list) | ${endToEnd.result.count} | ${endToEnd.result.total} | ${format(endToEnd.median)} | ${format(endToEnd.p95)} |`,
      );

      // One session changes per run: its store is rewritten, the combined view and its index
      // are rebuilt, but every unchanged entry keeps its cached search text.
      const opsStore = join(stateDir, "agents", "ops", "sessions", "sessions.json");
      let counter = 0;
      const afterWrite = await measure(async () => {
        counter += 1;
        await updateSessionStore(opsStore, (draft) => {
          const key = Object.keys(draft)[0];
          draft[key] = { ...draft[key], label: `changed-${counter}` };
        });
        const start = performance.now();
        const result = await listCombinedSessions({
          cfg,
          stateDir,
          env,
          opts: { search: "alice", limit: 50 },
        });
        result.elapsed = performance.now() - start;
        return result;
      });
      table.push(
        `| ${size} | after one session was written: search "alice" end to end (reload + rebuild + list) | ${afterWrite.result.count} | ${afterWrite.result.total} | ${format(afterWrite.median)} | ${format(afterWrite.p95)} |`,
      );
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  console.log(`node ${process.version}, ${RUNS} runs after ${WARMUP} warm-up runs\n`);
  console.log(table.join("\n"));
}

await main();
