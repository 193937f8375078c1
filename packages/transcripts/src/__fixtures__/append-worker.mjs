// Appends `count` messages to a transcript, as one of several concurrent processes.
// Usage: node append-worker.mjs <file> <count> <worker>
import { appendTranscriptMessage } from "../../dist/index.js";

const [file, count, worker] = process.argv.slice(2);
for (let index = 0; index < Number(count); index += 1) {
  await appendTranscriptMessage(
    file,
    { role: "user", content: `worker ${worker} line ${index} ${"ü".repeat(index % 50)}` },
    { lock: { pollIntervalMs: 2, timeoutMs: 30_000 } },
  );
}
