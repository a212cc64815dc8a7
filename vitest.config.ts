import { defineConfig } from "vitest/config";

// matrix-js-sdk's syncing clients (the tests' citizens and staff) print their internals through
// console; keep the test output to what the tests say.
const SDK_CHATTER = /^\[MatrixRTCSession|^Stopping queue|^Got remote echo|^setting pendingEvent status|^Adding default global|^Failed to load|^\[RoomWidgetClient/;

export default defineConfig({
  test: {
    onConsoleLog: (log) => !SDK_CHATTER.test(log),
    reporters: ["default", "./tests/harness/summary-reporter.ts"],
    projects: [
      {
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"] },
      },
      {
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          globalSetup: ["tests/harness/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // Each file starts its own Synapse; two cores: keep the number of them small.
          maxWorkers: 2,
        },
      },
    ],
  },
});
