// Holds the store lock through withSessionStoreLock, prints "locked" and waits to be killed.
// Usage: node clawkeep-lock-holder.mjs <storePath> [staleMs]
import { withSessionStoreLock } from "../dist/index.js";

const [storePath, staleText = "30000"] = process.argv.slice(2);

await withSessionStoreLock(
  storePath,
  async () => {
    process.stdout.write("locked\n");
    await new Promise(() => {});
  },
  { staleMs: Number(staleText) },
);
