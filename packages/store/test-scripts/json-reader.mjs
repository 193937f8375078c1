// Reads and parses a store file in a loop until told to stop (a line on stdin), then prints
// {reads, failures, firstError} as JSON. Usage: node json-reader.mjs <storePath>
import { readFileSync } from "node:fs";

const [storePath] = process.argv.slice(2);
let reads = 0;
let failures = 0;
let firstError;
let stop = false;
process.stdin.once("data", () => {
  stop = true;
});
process.stdout.write("ready\n");
while (!stop) {
  try {
    const value = JSON.parse(readFileSync(storePath, "utf8"));
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new Error("not an object");
    reads += 1;
  } catch (error) {
    failures += 1;
    firstError ??= String(error);
  }
  // Yield so that the stop message can arrive.
  await new Promise((resolve) => setImmediate(resolve));
}
process.stdout.write(`${JSON.stringify({ reads, failures, firstError })}\n`);
