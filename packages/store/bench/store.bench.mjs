// Benchmarks of @clawkeep/store against its built output (run `pnpm build` first; the root
// `pnpm bench` does). Each store size runs in a child process of its own, so that peak RSS is
// per size. Prints a markdown table.
//
//   node bench/store.bench.mjs            all sizes
//   node bench/store.bench.mjs 10000      one size, JSON on stdout
import { spawnSync } from "node:child_process";
import { mkdtemp, open, rm, unlink, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const SIZES = [1_000, 10_000, 50_000];
const SETTLE_MS = 30;

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

function uuid(next) {
  return `${hex(next, 8)}-${hex(next, 4)}-4${hex(next, 3)}-a${hex(next, 3)}-${hex(next, 12)}`;
}

const CHANNELS = ["telegram", "discord", "whatsapp", "slack", "webchat"];
const SKILLS = ["web-search", "calendar", "github", "notes", "shell", "browser", "weather"];

/** An entry shaped like reference §4.1, about 1.5 KB as written (2-space JSON). */
function makeEntry(next, index) {
  const channel = CHANNELS[index % CHANNELS.length];
  const peer = String(100_000_000 + Math.floor(next() * 900_000_000));
  const sessionId = uuid(next);
  return {
    key: `agent:main:${channel}:${index % 3 === 0 ? "group" : "direct"}:${peer}`,
    entry: {
      sessionId,
      updatedAt: 1_770_000_000_000 + Math.floor(next() * 10_000_000_000),
      sessionFile: `/home/user/.openclaw/agents/main/sessions/${sessionId}.jsonl`,
      systemSent: true,
      abortedLastRun: false,
      chatType: index % 3 === 0 ? "group" : "direct",
      channel,
      thinkingLevel: ["low", "medium", "high"][index % 3],
      inputTokens: Math.floor(next() * 200_000),
      outputTokens: Math.floor(next() * 20_000),
      totalTokens: Math.floor(next() * 220_000),
      contextTokens: 200_000,
      modelProvider: "anthropic",
      model: "claude-opus-4-6",
      label: `conversation ${index}`,
      deliveryContext: { channel, to: `${channel}:${peer}`, accountId: "default" },
      lastChannel: channel,
      lastTo: `${channel}:${peer}`,
      lastAccountId: "default",
      origin: {
        label: `Person ${index} (@user${index}) id:${peer}`,
        provider: channel,
        surface: channel,
        chatType: index % 3 === 0 ? "group" : "direct",
        from: `${channel}:${peer}`,
        to: `${channel}:${peer}`,
        accountId: "default",
      },
      skillsSnapshot: {
        prompt: `Skills available to this session (${hex(next, 24)}): ${SKILLS.join(", ")}. Use them when asked.`,
        skills: SKILLS.map((name) => ({ name })),
        version: 3,
      },
      cliSessionIds: { "claude-cli": uuid(next) },
    },
  };
}

function makeStore(size) {
  const next = random(size);
  const store = {};
  for (let index = 0; index < size; index += 1) {
    const { key, entry } = makeEntry(next, index);
    store[key] = entry;
  }
  return store;
}

function median(values) {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)];
}

async function time(fn) {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function measureSize(size) {
  const store = await import("../dist/index.js");
  const dir = await mkdtemp(join(tmpdir(), "clawkeep-bench-"));
  try {
    const storePath = join(dir, "sessions.json");
    const data = makeStore(size);
    const text = JSON.stringify(data, null, 2);
    const bytes = Buffer.from(text);
    await writeFile(storePath, bytes);
    const keys = Object.keys(data);

    const cold = [];
    for (let round = 0; round < 3; round += 1) {
      store.invalidateSessionStoreCache();
      cold.push(await time(() => store.loadSessionStore(storePath)));
    }

    const warm = [];
    for (let round = 0; round < 200; round += 1) {
      warm.push(await time(() => store.loadSessionStore(storePath)));
    }

    let counter = 0;
    const patch = (key) => (draft) => {
      counter += 1;
      draft[key].label = `renamed ${counter}`;
    };
    // The first update after a load serialises every entry once; later ones reuse that.
    store.invalidateSessionStoreCache();
    await store.loadSessionStore(storePath);
    const firstUpdate = await time(() => store.updateSessionStore(storePath, patch(keys[0])));

    // Baseline and update alternate, so that load from other processes on the machine hits
    // both alike. A pause before each keeps the background work of one (the kernel freeing the
    // file an update replaced, after the update has returned) out of the other.
    const baseline = [];
    const single = [];
    for (let round = 1; round <= 15; round += 1) {
      const path = join(dir, `baseline-${round}.json`);
      await sleep(SETTLE_MS);
      baseline.push(
        await time(async () => {
          const handle = await open(path, "w");
          await handle.writeFile(bytes);
          await handle.sync();
          await handle.close();
        }),
      );
      await unlink(path);
      await sleep(SETTLE_MS);
      single.push(await time(() => store.updateSessionStore(storePath, patch(keys[round]))));
    }

    // The snapshot object of a new state is built on the first read after the write.
    const loadAfterUpdate = [];
    for (let round = 16; round < 21; round += 1) {
      await store.updateSessionStore(storePath, patch(keys[round]));
      loadAfterUpdate.push(await time(() => store.loadSessionStore(storePath)));
    }

    const concurrent = [];
    for (let round = 0; round < 5; round += 1) {
      concurrent.push(
        await time(() =>
          Promise.all(
            Array.from({ length: 100 }, (_, index) =>
              store.updateSessionStore(storePath, patch(keys[(index * 7 + round) % keys.length])),
            ),
          ),
        ),
      );
    }

    const written = JSON.parse(
      await (await import("node:fs/promises")).readFile(storePath, "utf8"),
    );
    if (Object.keys(written).length !== size) throw new Error("benchmark store lost entries");

    return {
      size,
      fileBytes: bytes.length,
      bytesPerEntry: Math.round(bytes.length / size),
      coldLoadMs: median(cold),
      warmLoadMs: median(warm),
      loadAfterUpdateMs: median(loadAfterUpdate),
      baselineWriteMs: median(baseline),
      firstUpdateMs: firstUpdate,
      updateMs: median(single),
      concurrent100Ms: median(concurrent),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function format(value, digits = 1) {
  return value < 1 ? value.toFixed(3) : value.toFixed(digits);
}

function table(results) {
  const rows = [
    ["file size (MiB)", (result) => (result.fileBytes / 1024 / 1024).toFixed(1)],
    ["bytes per entry", (result) => String(result.bytesPerEntry)],
    ["cold load (ms)", (result) => format(result.coldLoadMs)],
    ["warm load (ms)", (result) => format(result.warmLoadMs)],
    ["first load after an update (ms)", (result) => format(result.loadAfterUpdateMs)],
    ["baseline: write + fsync same bytes (ms)", (result) => format(result.baselineWriteMs)],
    ["first update after a load (ms)", (result) => format(result.firstUpdateMs)],
    [
      "one update, locked read-modify-write + durable write (ms)",
      (result) => format(result.updateMs),
    ],
    ["  ÷ baseline", (result) => `${(result.updateMs / result.baselineWriteMs).toFixed(2)}×`],
    ["100 concurrent updates (ms)", (result) => format(result.concurrent100Ms)],
    ["  ÷ one update", (result) => `${(result.concurrent100Ms / result.updateMs).toFixed(2)}×`],
    ["peak RSS (MiB)", (result) => result.peakRssMiB.toFixed(0)],
  ];
  const header = `| | ${results.map((result) => `${result.size / 1000}k entries`).join(" | ")} |`;
  const rule = `|---|${results.map(() => "---:").join("|")}|`;
  const body = rows.map(([label, cell]) => `| ${label} | ${results.map(cell).join(" | ")} |`);
  return [header, rule, ...body].join("\n");
}

const requested = process.argv[2];
if (requested !== undefined) {
  process.stdout.write(`${JSON.stringify(await measureSize(Number(requested)))}\n`);
} else {
  const results = [];
  for (const size of SIZES) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(size)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (child.status !== 0) throw new Error(`benchmark of ${size} entries failed`);
    results.push(JSON.parse(child.stdout));
  }
  console.log(
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${tmpdir()}\n`,
  );
  console.log(table(results));
  const at = (size) => results.find((result) => result.size === size);
  console.log("");
  console.log(`warm load at 50k < 1 ms: ${at(50_000).warmLoadMs < 1 ? "yes" : "no"}`);
  console.log(
    `one update at 10k ≤ 1.5 × baseline: ${at(10_000).updateMs <= 1.5 * at(10_000).baselineWriteMs ? "yes" : "no"}`,
  );
  console.log(
    `100 concurrent < 5 × one update (10k): ${at(10_000).concurrent100Ms < 5 * at(10_000).updateMs ? "yes" : "no"}`,
  );
}
