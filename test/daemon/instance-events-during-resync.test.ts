import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createCallers } from "../../src/aws/aws-clients.js";
import { SimCloud } from "../../src/aws/sim/sim-cloud.js";
import { Controller } from "../../src/daemon/controller.js";
import type { PassRequest, PassResult } from "../../src/engine/engine.js";
import { createLogger } from "../../src/observability/logger.js";
import { Metrics } from "../../src/observability/metrics.js";
import { StatusStore } from "../../src/status/status-store.js";
import { simSettings } from "../support/controller-harness.js";
import { manifestYaml } from "../support/drift-kit.js";
import { defaultEngineOptions, engineOver } from "../support/moto-engine.js";
import { tempDirs } from "../support/temp-dir.js";

const dirs = tempDirs("events-during-resync");
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
  await dirs.cleanup();
});

describe("an instance event while a resync reads AWS", () => {
  it("survives the resync's older snapshot replacing the cache", async () => {
    const sim = new SimCloud({});
    const metrics = new Metrics({ defaultMetrics: false });
    const callers = createCallers(sim, simSettings, metrics);
    const engine = engineOver(callers, defaultEngineOptions);
    // The second resync's read is done, and held, while the event is handled.
    let holdResync: Promise<void> | undefined = undefined;
    const run = engine.run.bind(engine);
    engine.run = async (request: PassRequest): Promise<PassResult> => {
      const result = await run(request);
      if (!request.execute && holdResync !== undefined) await holdResync;
      return result;
    };
    const directory = await dirs.make();
    await writeFile(
      path.join(directory, "alpha.yaml"),
      manifestYaml({ name: "alpha", matchTags: { Team: "alpha" } }),
    );
    const controller = new Controller({
      manifestsDirectory: directory,
      compile: { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" },
      engine,
      ec2: callers.ec2,
      status: new StatusStore(),
      metrics,
      logger: createLogger("silent"),
      options: { concurrency: 4, resyncMs: 3_600_000 },
    });
    stops.push(() => controller.stop());
    await controller.resync();
    await controller.idle();

    let release: () => void = () => undefined;
    holdResync = new Promise((resolve) => {
      release = resolve;
    });
    const resync = controller.resync();
    // Let the resync's read finish before the launch: its snapshot does not have the instance.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const id = sim.launchInstance({ tags: { Team: "alpha" } });
    const handled = await controller.instancesChanged([id]);
    expect(handled.get(id)).toBe("converged");
    release();
    await resync;
    await controller.idle();
    expect(controller.knowsInstance(id), "the instance is still in the cache after the resync").toBe(true);
  });
});
