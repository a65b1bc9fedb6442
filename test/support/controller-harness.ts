import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { expect } from "vitest";
import { createCallers, defaultAwsSettings, type AwsSettings } from "../../src/aws/aws-clients.js";
import { SimCloud, type SimInstanceSeed } from "../../src/aws/sim/sim-cloud.js";
import { Controller, type ControllerDeps } from "../../src/daemon/controller.js";
import { readManifestDirectory } from "../../src/fs/read-manifest-files.js";
import { buildServer } from "../../src/http/server.js";
import { createLogger } from "../../src/observability/logger.js";
import { Metrics } from "../../src/observability/metrics.js";
import { StatusStore, type StatusDocument } from "../../src/status/status-store.js";
import { manifestYaml, type ManifestSpec } from "./drift-kit.js";
import { defaultEngineOptions, engineOver } from "./moto-engine.js";
import { tempDirs } from "./temp-dir.js";

/** No rate limit and near-instant retries: the simulator neither throttles nor needs waiting for. */
export const simSettings: AwsSettings = {
  ...defaultAwsSettings,
  rateLimits: {
    iam: { perSecond: 1_000_000, burst: 1_000_000 },
    ec2: { perSecond: 1_000_000, burst: 1_000_000 },
  },
  retry: { ...defaultAwsSettings.retry, baseDelayMs: 1, maxDelayMs: 5 },
};

const readOnly = /^(iam|ec2):(Get|List|Describe)/;

export type ReadDirectory = NonNullable<ControllerDeps["readDirectory"]>;

/** A Controller on the simulated cloud and a temporary manifests directory, with its HTTP server for inject(). */
export interface ControllerHarness {
  readonly sim: SimCloud;
  readonly controller: Controller;
  readonly status: StatusStore;
  readonly metrics: Metrics;
  readonly directory: string;
  readonly app: FastifyInstance;
  /** Mutating AWS calls since the last call of this function. */
  mutations(): string[];
  file(name: string): string;
  write(spec: ManifestSpec): Promise<void>;
  remove(name: string): Promise<void>;
  /** Files changed: reload, and wait until the queue has run dry. */
  changed(): Promise<void>;
  /** A full resync, and wait until the queue has run dry. */
  resync(): Promise<void>;
  /** /healthz through the HTTP server. */
  healthz(): Promise<number>;
  /** /status through the HTTP server. */
  statusDocument(): Promise<StatusDocument>;
}

export interface HarnessOptions {
  readonly instances?: readonly SimInstanceSeed[];
  readonly allowMassPrune?: boolean;
  readonly concurrency?: number;
  readonly settleMs?: number;
  /** Wraps the real directory reader (to swap files mid-read, fail one file, …). */
  readonly readDirectory?: (real: ReadDirectory) => ReadDirectory;
  /** Leader election, as the daemon wires it: the controller stands by while mayWrite answers false. */
  readonly leadership?: { mayWrite(): boolean };
}

/** Harnesses for one test file: `start` one per test, `cleanup` in afterEach. */
export function controllerHarnesses(prefix: string) {
  const dirs = tempDirs(prefix);
  const cleanups: (() => Promise<unknown>)[] = [];
  return {
    async start(specs: readonly ManifestSpec[], options: HarnessOptions = {}): Promise<ControllerHarness> {
      const sim = new SimCloud({ instances: [...(options.instances ?? [])] });
      const metrics = new Metrics({ defaultMetrics: false });
      const { iam, ec2 } = createCallers(sim, simSettings, metrics);
      const status = new StatusStore();
      const directory = await dirs.make();
      const controller = new Controller({
        manifestsDirectory: directory,
        compile: { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" },
        engine: engineOver(
          { iam, ec2 },
          {
            ...defaultEngineOptions,
            concurrency: options.concurrency ?? 4,
            allowMassPrune: options.allowMassPrune ?? false,
          },
        ),
        ec2,
        status,
        metrics,
        logger: createLogger("silent"),
        options: {
          concurrency: options.concurrency ?? 4,
          resyncMs: 3_600_000,
          settleMs: options.settleMs ?? 0,
        },
        ...(options.readDirectory === undefined
          ? {}
          : { readDirectory: options.readDirectory(readManifestDirectory) }),
        ...(options.leadership === undefined ? {} : { leadership: options.leadership }),
      });
      const app = buildServer({ status, isReady: () => controller.isReady(), registry: metrics.registry });
      cleanups.push(
        () => controller.stop(),
        () => app.close(),
      );
      let seen = 0;
      const harness: ControllerHarness = {
        sim,
        controller,
        status,
        metrics,
        directory,
        app,
        mutations: () => {
          const fresh = sim.calls.slice(seen);
          seen = sim.calls.length;
          return fresh.filter((call) => !readOnly.test(call));
        },
        file: (name) => path.join(directory, name),
        write: (spec) => writeFile(path.join(directory, `${spec.name}.yaml`), manifestYaml(spec)),
        remove: (name) => rm(path.join(directory, `${name}.yaml`)),
        changed: async () => {
          await controller.manifestsChanged();
          await controller.idle();
        },
        resync: async () => {
          await controller.resync();
          await controller.idle();
        },
        healthz: async () => (await app.inject({ url: "/healthz" })).statusCode,
        statusDocument: async () => {
          const response = await app.inject({ url: "/status" });
          expect(response.statusCode).toBe(200);
          return response.json<StatusDocument>();
        },
      };
      for (const spec of specs) await harness.write(spec);
      return harness;
    },
    /** Something else to clean up after the test (a server, a socket). */
    defer(cleanup: () => Promise<unknown>): void {
      cleanups.push(cleanup);
    },
    async cleanup(): Promise<void> {
      await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
      await dirs.cleanup();
    },
  };
}

/** Fails instead of hanging when `promise` does not settle in time. */
export async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not finish within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
