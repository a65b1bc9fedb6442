import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default on 2 cores is one worker, but most suites wait on moto_server or on timers rather than on
    // a core: two workers took the whole suite from 467 s to 303 s on a 2-core machine, every test passing.
    maxWorkers: 2,
  },
});
