// Benchmarks of the built gateway (run `pnpm build` first; the root `pnpm bench` does): the real
// `clawkeep-gateway` process over loopback, a generated 10k-entry store, and clients of
// @clawkeep/gateway-client in this process. Prints a markdown table. Every loop is bounded in
// count; the gateway and the temp dir are removed at the end.
//
//   node bench/gateway.bench.mjs
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectGateway } from "@clawkeep/gateway-client";
import { updateSessionStore } from "@clawkeep/store";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const ENTRIES = 10_000;
const TRANSCRIPTS = 100;
const TOKEN = "bench-token";
const IDLE_CONNECTIONS = 1000;

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(next, length) {
  let text = "";
  while (text.length < length) text += Math.floor(next() * 16).toString(16);
  return text;
}

const CHANNELS = ["telegram", "discord", "whatsapp", "slack", "webchat"];

/** An entry shaped like what openclaw writes, about 1.3 KB as written. */
function makeEntry(next, index) {
  const channel = CHANNELS[index % CHANNELS.length];
  const peer = String(100_000_000 + index);
  const kind = index % 3 === 0 ? "group" : "direct";
  return [
    `agent:main:${channel}:${kind}:${peer}`,
    {
      sessionId: `${hex(next, 8)}-${hex(next, 4)}-4${hex(next, 3)}-a${hex(next, 3)}-${hex(next, 12)}`,
      updatedAt: 1_770_000_000_000 + Math.floor(next() * 10_000_000_000),
      systemSent: true,
      abortedLastRun: false,
      chatType: kind,
      channel,
      thinkingLevel: ["low", "medium", "high"][index % 3],
      inputTokens: Math.floor(next() * 200_000),
      outputTokens: Math.floor(next() * 20_000),
      totalTokens: Math.floor(next() * 220_000),
      contextTokens: 200_000,
      label: `conversation ${index}`,
      deliveryContext: { channel, to: `${channel}:${peer}`, accountId: "default" },
      lastChannel: channel,
      lastTo: `${channel}:${peer}`,
      lastAccountId: "default",
      origin: {
        label: `Person ${index} (@user${index}) id:${peer}`,
        provider: channel,
        surface: channel,
        chatType: kind,
        from: `${channel}:${peer}`,
        to: `${channel}:${peer}`,
        accountId: "default",
      },
      skillsSnapshot: {
        prompt: `Skills (${hex(next, 24)}): web-search, calendar, github.`,
        version: 3,
      },
    },
  ];
}

function transcript(sessionId, turns) {
  const lines = [
    JSON.stringify({
      type: "session",
      version: 3,
      id: sessionId,
      timestamp: "2026-02-12T10:00:00.000Z",
      cwd: "/tmp",
    }),
  ];
  let parentId = null;
  for (let turn = 0; turn < turns; turn += 1) {
    const id = `m${String(turn).padStart(7, "0")}`;
    const role = turn % 2 === 0 ? "user" : "assistant";
    const text = `${role} message ${turn}: ${"lorem ipsum dolor sit amet ".repeat(8)}`;
    lines.push(
      JSON.stringify({
        type: "message",
        id,
        parentId,
        timestamp: "2026-02-12T10:00:01.000Z",
        message: { role, content: [{ type: "text", text }], timestamp: turn },
      }),
    );
    parentId = id;
  }
  return `${lines.join("\n")}\n`;
}

async function writeState(stateDir) {
  const next = random(42);
  const store = {};
  const keys = [];
  for (let index = 0; index < ENTRIES; index += 1) {
    const [key, entry] = makeEntry(next, index);
    store[key] = entry;
    keys.push(key);
  }
  const sessionsDir = join(stateDir, "agents", "main", "sessions");
  await mkdir(sessionsDir, { recursive: true });
  const storePath = join(sessionsDir, "sessions.json");
  const text = JSON.stringify(store, null, 2);
  await writeFile(storePath, text);
  for (const key of keys.slice(0, TRANSCRIPTS)) {
    await writeFile(
      join(sessionsDir, `${store[key].sessionId}.jsonl`),
      transcript(store[key].sessionId, 200),
    );
  }
  return { storePath, keys, bytes: Buffer.byteLength(text), text };
}

function startGateway(stateDir, home) {
  const child = spawn(
    process.execPath,
    [MAIN, "--port", "0", "--state-dir", stateDir, "--token", TOKEN],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, HOME: home } },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const match = stderr.match(/listening on (ws:\/\/\S+) \(/);
      if (match !== null) {
        clearInterval(timer);
        resolve({ child, url: match[1] });
      } else if (child.exitCode !== null || Date.now() - started > 15_000) {
        clearInterval(timer);
        reject(new Error(`gateway did not start:\n${stderr}`));
      }
    }, 20);
  });
}

async function rssMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

function percentile(sorted, fraction) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

const connect = (url) =>
  connectGateway({ url, token: TOKEN, client: { id: "cli", mode: "cli" }, watchTicks: false });

/** `clients` connections each sending `perClient` requests one after another. */
async function measure(url, clients, perClient, request) {
  const connections = await Promise.all(Array.from({ length: clients }, () => connect(url)));
  const durations = [];
  let counter = 0;
  const started = performance.now();
  await Promise.all(
    connections.map(async (client) => {
      for (let index = 0; index < perClient; index += 1) {
        const [method, params] = request(counter);
        counter += 1;
        const begin = performance.now();
        await client.call(method, params);
        durations.push(performance.now() - begin);
      }
    }),
  );
  const elapsed = performance.now() - started;
  await Promise.all(connections.map((client) => client.close()));
  durations.sort((left, right) => left - right);
  return {
    perSecond: (durations.length / elapsed) * 1000,
    p50: percentile(durations, 0.5),
    p99: percentile(durations, 0.99),
  };
}

/**
 * The gateway's `sessions.patch` against the store's own `updateSessionStore` on a copy of the
 * same store in this process, alternating one of each so that both see the same machine load.
 */
async function patchVersusStore(url, dir, state) {
  const storePath = join(dir, "copy", "sessions.json");
  await mkdir(join(dir, "copy"), { recursive: true });
  await writeFile(storePath, state.text);
  const client = await connect(url);
  const levels = ["low", "medium", "high"];
  const patchTimes = [];
  const storeTimes = [];
  for (let round = 0; round < 43; round += 1) {
    const key = state.keys[(round * 104_729) % ENTRIES];
    let begin = performance.now();
    await client.call("sessions.patch", { key, thinkingLevel: levels[round % 3] });
    const patchMs = performance.now() - begin;
    begin = performance.now();
    await updateSessionStore(storePath, (draft) => {
      draft[key] = { ...draft[key], thinkingLevel: levels[round % 3] };
    });
    const storeMs = performance.now() - begin;
    // The first store update after a load serialises the whole store once: not a steady update.
    if (round >= 3) {
      patchTimes.push(patchMs);
      storeTimes.push(storeMs);
    }
  }
  await client.close();
  patchTimes.sort((left, right) => left - right);
  storeTimes.sort((left, right) => left - right);
  return { patch: percentile(patchTimes, 0.5), store: percentile(storeTimes, 0.5) };
}

const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "–");

async function main() {
  const root = await mkdtemp(join(tmpdir(), "clawkeep-gateway-bench-"));
  let gateway;
  try {
    const stateDir = join(root, "state");
    const home = join(root, "home");
    await mkdir(home, { recursive: true });
    const state = await writeState(stateDir);
    gateway = await startGateway(stateDir, home);
    const { url, child } = gateway;

    // Warm up: the first list loads and indexes the store, the first patch serialises it once.
    const warm = await connect(url);
    await warm.call("sessions.list", { limit: 50 }, { timeoutMs: 60_000 });
    await warm.call(
      "sessions.patch",
      { key: state.keys[5000], thinkingLevel: "high" },
      { timeoutMs: 60_000 },
    );
    await warm.close();

    const rows = [];
    const previewKeys = state.keys.slice(0, 3);
    const workloads = [
      ["sessions.list {limit:50}", () => ["sessions.list", { limit: 50 }], [400, 60]],
      [
        "sessions.patch (one entry, durable write)",
        (n) => [
          "sessions.patch",
          {
            key: state.keys[(n * 7919) % ENTRIES],
            thinkingLevel: ["low", "medium", "high"][n % 3],
          },
        ],
        [40, 8],
      ],
      [
        "sessions.preview (3 keys, limit 12)",
        () => ["sessions.preview", { keys: previewKeys, limit: 12 }],
        [300, 30],
      ],
    ];
    for (const [name, request, [single, each]] of workloads) {
      const one = await measure(url, 1, single, request);
      const many = await measure(url, 32, each, request);
      rows.push([name, one, many]);
    }

    const connectTimes = [];
    for (let round = 0; round < 50; round += 1) {
      const begin = performance.now();
      const client = await connect(url);
      connectTimes.push(performance.now() - begin);
      await client.close();
    }
    connectTimes.sort((left, right) => left - right);

    const rssBefore = await rssMiB(child.pid);
    const idle = [];
    while (idle.length < IDLE_CONNECTIONS) {
      const batch = Math.min(25, IDLE_CONNECTIONS - idle.length);
      idle.push(...(await Promise.all(Array.from({ length: batch }, () => connect(url)))));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rssIdle = await rssMiB(child.pid);
    await Promise.all(idle.map((client) => client.close()));

    const versus = await patchVersusStore(url, root, state);

    const lines = [
      `Gateway benchmark: ${ENTRIES} entries (${fmt(state.bytes / 1024 / 1024)} MiB store), Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), gateway in its own process, loopback.`,
      "",
      "| request | 1 client: req/s | p50 ms | p99 ms | 32 clients: req/s | p50 ms | p99 ms |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows.map(
        ([name, one, many]) =>
          `| ${name} | ${fmt(one.perSecond, 0)} | ${fmt(one.p50, 2)} | ${fmt(one.p99, 2)} | ${fmt(many.perSecond, 0)} | ${fmt(many.p50, 2)} | ${fmt(many.p99, 2)} |`,
      ),
      "",
      "| measure | value |",
      "| --- | ---: |",
      `| connect + handshake, p50 / p99 (ms) | ${fmt(percentile(connectTimes, 0.5), 2)} / ${fmt(percentile(connectTimes, 0.99), 2)} |`,
      `| gateway RSS before / with ${IDLE_CONNECTIONS} idle connections (MiB) | ${fmt(rssBefore)} / ${fmt(rssIdle)} |`,
      `| RSS per idle connection (KiB) | ${fmt(((rssIdle - rssBefore) * 1024) / IDLE_CONNECTIONS)} |`,
      `| alternating: sessions.patch p50 / store's own updateSessionStore p50 (ms) | ${fmt(versus.patch, 2)} / ${fmt(versus.store, 2)} |`,
      `| sessions.patch ÷ store update | ${fmt(versus.patch / versus.store, 2)}× |`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    if (gateway !== undefined) {
      gateway.child.kill("SIGTERM");
      await new Promise((resolve) => gateway.child.once("exit", resolve));
    }
    await rm(root, { recursive: true, force: true });
  }
}

await main();
