// Takes a transcript's lock, prints "locked", and holds it until stdin closes (or the process is
// killed). Usage: node hold-lock.mjs <file>
import { withTranscriptLock } from "../../dist/index.js";

const [file] = process.argv.slice(2);
await withTranscriptLock(file, async () => {
  process.stdout.write("locked\n");
  await new Promise((resolve) => {
    process.stdin.on("end", resolve);
    process.stdin.resume();
  });
});
process.stdout.write("released\n");
