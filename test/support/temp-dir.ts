import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** Temporary directories for one test file: `make()` creates one, `cleanup()` (in afterEach/afterAll) removes all. */
export function tempDirs(prefix: string): { make: () => Promise<string>; cleanup: () => Promise<void> } {
  const made: string[] = [];
  return {
    make: async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), `rolecall-${prefix}-`));
      made.push(dir);
      return dir;
    },
    cleanup: async () => {
      await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}
