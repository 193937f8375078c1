// Benchmarks of @clawkeep/transcripts against the built dist/ (run `pnpm build` first):
// tail reads (preview of the last 12 messages, last-message preview) on generated transcripts of
// 1 MB, 50 MB and 500 MB, and compaction of the 500 MB one in a child process (so that its peak
// RSS is its own). Transcripts are generated into a temp dir that is removed afterwards.
// Usage: node bench/transcripts.bench.mjs [--sizes 1,50,500] [--runs 50]
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  compactTranscript,
  readLastTranscriptMessage,
  readTranscriptPreview,
} from "../dist/index.js";

const MB = 1024 * 1024;

if (process.argv[2] === "--compact") {
  // Child mode: compact one file and report time and peak RSS.
  const file = process.argv[3];
  const { size } = await stat(file);
  const started = performance.now();
  const result = await compactTranscript(file, { maxLines: 400 });
  const elapsedMs = performance.now() - started;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ size, elapsedMs, peakRssMb, result }));
  process.exit(0);
}

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : process.argv[index + 1];
}
const sizesMb = option("--sizes", "1,50,500").split(",").map(Number);
const runs = Number(option("--runs", "50"));

let counter = 0;
const nextId = () => (counter++).toString(16).padStart(8, "0");
const usage = {
  input: 1200,
  output: 300,
  cacheRead: 0,
  cacheWrite: 0,
  totalTokens: 1500,
  cost: { input: 0.01, output: 0.02, cacheRead: 0, cacheWrite: 0, total: 0.03 },
};
const prose =
  "The quick brown fox jumps over the lazy dog while the gateway keeps every session tidy. ";

/** One turn: a user question, a tool call, its result (100 KB every 25th turn), an answer. */
function turnLines(turn, parentId) {
  const lines = [];
  let parent = parentId;
  const push = (body) => {
    const id = nextId();
    lines.push(
      JSON.stringify({
        type: "message",
        id,
        parentId: parent,
        timestamp: new Date(1_770_000_000_000 + turn * 4000).toISOString(),
        ...body,
      }),
    );
    parent = id;
  };
  push({
    message: {
      role: "user",
      content: [
        {
          type: "text",
          text: `[Telegram Alice 2026-02-12 10:00] question ${turn}: ${prose.repeat(2)}`,
        },
      ],
      timestamp: turn,
    },
  });
  push({
    message: {
      role: "assistant",
      content: [
        {
          type: "toolCall",
          id: `call_${turn}`,
          name: "read_file",
          arguments: { path: `/srv/data/${turn}.txt` },
        },
      ],
      api: "anthropic-messages",
      provider: "anthropic",
      model: "claude-opus-4-6",
      usage,
      stopReason: "toolUse",
      timestamp: turn,
    },
  });
  const resultSize = turn % 25 === 24 ? 100 * 1024 : 2 * 1024;
  push({
    message: {
      role: "toolResult",
      toolCallId: `call_${turn}`,
      toolName: "read_file",
      content: [
        {
          type: "text",
          text: prose.repeat(Math.ceil(resultSize / prose.length)).slice(0, resultSize),
        },
      ],
      isError: false,
      timestamp: turn,
    },
  });
  push({
    message: {
      role: "assistant",
      content: [{ type: "text", text: `Answer ${turn}: ${prose.repeat(8)}` }],
      api: "anthropic-messages",
      provider: "anthropic",
      model: "claude-opus-4-6",
      usage,
      stopReason: "stop",
      timestamp: turn,
    },
  });
  return { text: `${lines.join("\n")}\n`, leaf: parent };
}

/** Writes a transcript of about `sizeMb` that always ends with the same 50 turns. */
async function generate(file, sizeMb) {
  const out = createWriteStream(file, { highWaterMark: 4 * MB });
  const header = {
    type: "session",
    version: 3,
    id: "bench",
    timestamp: new Date(0).toISOString(),
    cwd: "/bench",
  };
  let written = 0;
  const write = async (text) => {
    written += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, "drain");
  };
  await write(`${JSON.stringify(header)}\n`);
  const target = sizeMb * MB;
  // The body is 50-turn cycles, so the tail (the last cycle) is identical for every size.
  let leaf = null;
  let turn = 0;
  while (written < target) {
    for (let index = 0; index < 50; index += 1) {
      const lines = turnLines(turn % 50, leaf);
      leaf = lines.leaf;
      await write(lines.text);
      turn += 1;
    }
  }
  out.end();
  await once(out, "finish");
  return written;
}

function median(values) {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)];
}
function p95(values) {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))];
}

async function time(fn) {
  for (let index = 0; index < 20; index += 1) await fn();
  const samples = [];
  for (let index = 0; index < runs; index += 1) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return { median: median(samples), p95: p95(samples) };
}

const dir = await mkdtemp(join(tmpdir(), "clawkeep-transcripts-bench-"));
const rows = [];
let compaction;
try {
  for (const sizeMb of sizesMb) {
    const file = join(dir, `bench-${sizeMb}.jsonl`);
    const bytes = await generate(file, sizeMb);
    let info;
    const preview = await time(async () => {
      info = await readTranscriptPreview(file, { maxItems: 12, maxChars: 240 });
    });
    if (info.items.length !== 12) throw new Error(`expected 12 items, got ${info.items.length}`);
    let last;
    const lastMessage = await time(async () => {
      last = await readLastTranscriptMessage(file);
    });
    if (last.message === null) throw new Error("no last message");
    rows.push({
      sizeMb,
      bytes,
      preview,
      lastMessage,
      scanned: info.bytesScanned,
      lastScanned: last.bytesScanned,
    });
    if (sizeMb === Math.max(...sizesMb)) {
      const output = execFileSync(
        process.execPath,
        [new URL(import.meta.url).pathname, "--compact", file],
        {
          encoding: "utf8",
        },
      );
      compaction = JSON.parse(output);
    }
    await rm(file, { force: true });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const fmt = (value) => value.toFixed(2);
console.log(`node ${process.version}, ${runs} runs per read (median / p95, page cache warm)\n`);
console.log("| transcript | preview, last 12 (ms) | bytes read | last message (ms) | bytes read |");
console.log("| --- | --- | --- | --- | --- |");
for (const row of rows) {
  console.log(
    `| ${(row.bytes / MB).toFixed(1)} MB | ${fmt(row.preview.median)} / ${fmt(row.preview.p95)} | ${(row.scanned / 1024).toFixed(0)} KiB | ${fmt(row.lastMessage.median)} / ${fmt(row.lastMessage.p95)} | ${(row.lastScanned / 1024).toFixed(0)} KiB |`,
  );
}
if (compaction !== undefined) {
  const seconds = compaction.elapsedMs / 1000;
  console.log("\n| compaction (maxLines 400) | time (s) | throughput (MB/s) | peak RSS (MB) |");
  console.log("| --- | --- | --- | --- |");
  console.log(
    `| ${(compaction.size / MB).toFixed(0)} MB, ${compaction.result.removed} entries removed | ${seconds.toFixed(2)} | ${(compaction.size / MB / seconds).toFixed(0)} | ${compaction.peakRssMb.toFixed(0)} |`,
  );
}
const first = rows[0];
const lastRow = rows.at(-1);
if (first !== undefined && lastRow !== undefined && first !== lastRow) {
  console.log(
    `\npreview ratio ${(lastRow.bytes / MB).toFixed(0)} MB / ${(first.bytes / MB).toFixed(0)} MB: ${(lastRow.preview.median / first.preview.median).toFixed(2)}x; last message: ${(lastRow.lastMessage.median / first.lastMessage.median).toFixed(2)}x`,
  );
}
