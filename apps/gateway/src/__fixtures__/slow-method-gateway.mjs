// The built gateway entry with one extra method, `test.slow`, so that a process test can have a
// request in flight when the process receives SIGTERM.
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { runGatewayCli } from "../../dist/main.js";

const code = await runGatewayCli(process.argv.slice(2), {
  registerMethods(registry) {
    registry.register({
      name: "test.slow",
      scope: "read",
      paramsSchema: z.strictObject({ ms: z.int().min(0) }),
      handler: async ({ ms }) => {
        await sleep(ms);
        return { slept: ms };
      },
    });
  },
});
process.exit(code);
