// Increments `counter.count` in a store through updateSessionStore, printing each committed value
// on its own line. Usage: node counter-writer.mjs <storePath> <count, 0 = until killed> [staleMs]
import { updateSessionStore } from "../dist/index.js";

const [storePath, countText = "0", staleText = "3000"] = process.argv.slice(2);
const count = Number(countText);
const staleMs = Number(staleText);

for (let done = 0; count === 0 || done < count; done += 1) {
  const value = await updateSessionStore(
    storePath,
    (store) => {
      const next = (store.counter?.count ?? 0) + 1;
      store.counter = { sessionId: "counter", updatedAt: 1, count: next };
      return next;
    },
    { staleMs, timeoutMs: 30_000 },
  );
  process.stdout.write(`${value}\n`);
}
