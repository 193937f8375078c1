// Holds the store lock through withSessionStoreLock, prints "locked" and waits to be killed.
// Usage: node clawkeep-lock-holder.mjs <storePath> [staleMs]
import { withSessionStoreLock } from "../dist/index.js";

const [storePath, staleText = "30000"] = process.argv.slice(2);

await withSessionStoreLock(
  storePath,
  async () => {
    process.stdout.write("locked\n");
    // A referenced timer keeps the process alive until it is killed: the lock's own refresh
    // timer is unreferenced, and a process that exits by itself releases the lock on the way.
    await new Promise(() => setInterval(() => {}, 60_000));
  },
  { staleMs: Number(staleText) },
);
