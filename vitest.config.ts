import { basename } from "node:path";
import { defineConfig } from "vitest/config";
import { SummaryReporter } from "./scripts/summary-reporter.ts";

const conditions = ["@clawkeep/source"];
const workspaces = [
  "packages/schema",
  "packages/store",
  "packages/transcripts",
  "packages/session-utils",
  "packages/gateway-client",
  "packages/gateway-methods",
  "packages/maintenance",
  "apps/gateway",
  "apps/cli",
];

export default defineConfig({
  resolve: { conditions },
  // Vitest runs Node tests in Vite's SSR environment, which has its own resolve settings.
  environments: { ssr: { resolve: { conditions } } },
  test: {
    projects: [
      ...workspaces.map((dir) => ({
        extends: true as const,
        test: {
          name: basename(dir),
          include: [`${dir}/src/**/*.test.ts`],
          exclude: [`${dir}/src/**/*.process.test.ts`],
        },
      })),
      {
        // Tests that spawn OS processes and hold real locks: one file at a time so that
        // timing stays deterministic on a busy two-core machine.
        extends: true as const,
        test: {
          name: "processes",
          include: ["packages/*/src/**/*.process.test.ts", "apps/*/src/**/*.process.test.ts"],
          fileParallelism: false,
          testTimeout: 60_000,
        },
      },
    ],
    reporters: ["default", new SummaryReporter()],
    restoreMocks: true,
    unstubEnvs: true,
    passWithNoTests: false,
  },
});
