import type { EC2Client } from "@aws-sdk/client-ec2";
import type { IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { CallCounter } from "../../src/aws/call-observer.js";
import type { Engine } from "../../src/engine/engine.js";
import { motoClients, startMoto, type Moto } from "./moto.js";
import { motoEngine } from "./moto-engine.js";
import { tempDirs } from "./temp-dir.js";

/** What an end-to-end test file works with: one moto_server, its clients, an engine over it, a manifests directory. */
export interface MotoWorld {
  readonly moto: Moto;
  readonly iam: IAMClient;
  readonly ec2: EC2Client;
  readonly engine: Engine;
  /** The engine's calls (the test's own clients are not counted). */
  readonly calls: CallCounter;
  /** An empty directory of the test's own. */
  readonly directory: string;
}

/**
 * A moto_server for the test file it is called in (started once: it takes a second), reset before each test,
 * with a fresh manifests directory for each. Call it at the top of the describe block: its beforeEach runs before
 * the file's own. The fields are read in tests and hooks only (before beforeAll they do not exist).
 */
export function motoWorld(name: string): MotoWorld {
  const dirs = tempDirs(name);
  let current: { -readonly [K in keyof MotoWorld]?: MotoWorld[K] } = {};
  beforeAll(async () => {
    const moto = await startMoto();
    current = { moto, ...motoClients(moto), ...motoEngine(moto) };
  });
  beforeEach(async () => {
    await present(current.moto, "moto").reset();
    current.directory = await dirs.make();
  });
  afterAll(async () => {
    await current.moto?.stop();
    await dirs.cleanup();
  });
  return {
    get moto() {
      return present(current.moto, "moto");
    },
    get iam() {
      return present(current.iam, "iam");
    },
    get ec2() {
      return present(current.ec2, "ec2");
    },
    get engine() {
      return present(current.engine, "engine");
    },
    get calls() {
      return present(current.calls, "calls");
    },
    get directory() {
      return present(current.directory, "directory");
    },
  };
}

function present<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new Error(`motoWorld.${field} is read before the suite's beforeAll ran`);
  return value;
}
