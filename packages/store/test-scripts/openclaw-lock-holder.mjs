// Holds a store lock the way openclaw 2026.2 does (a plain file made with exclusive create,
// {"pid","startedAt"}), prints "locked", removes it after holdMs and exits.
// Usage: node openclaw-lock-holder.mjs <storePath> <holdMs>
import { unlinkSync, writeFileSync } from "node:fs";

const [storePath, holdText] = process.argv.slice(2);
const lockPath = `${storePath}.lock`;
writeFileSync(lockPath, JSON.stringify({ pid: process.pid, startedAt: Date.now() }), {
  flag: "wx",
});
process.stdout.write("locked\n");
setTimeout(() => {
  unlinkSync(lockPath);
  process.exit(0);
}, Number(holdText));
