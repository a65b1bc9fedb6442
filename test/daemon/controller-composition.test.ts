import {
  DescribeIamInstanceProfileAssociationsCommand,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
} from "@aws-sdk/client-ec2";
import { GetRoleCommand } from "@aws-sdk/client-iam";
import { afterEach, describe, expect, it } from "vitest";
import type { SimCloud } from "../../src/aws/sim/sim-cloud.js";
import { compositeName } from "../../src/desired/composite.js";
import { controllerHarnesses } from "../support/controller-harness.js";

const harnesses = controllerHarnesses("composition");
const both = "i-0aaaaaaaaaaaaaaa1";
const devOnly = "i-0bbbbbbbbbbbbbbb1";
const composite = compositeName(["dev", "etl"], "/rolecall/");

async function profileOf(sim: SimCloud, instanceId: string): Promise<string | undefined> {
  const output = (await sim.ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [{ Name: "instance-id", Values: [instanceId] }],
    }),
  )) as DescribeIamInstanceProfileAssociationsCommandOutput;
  return output.IamInstanceProfileAssociations?.[0]?.IamInstanceProfile?.Arn?.split("/").at(-1);
}

async function roleExists(sim: SimCloud, name: string): Promise<boolean> {
  try {
    await sim.iam.send(new GetRoleCommand({ RoleName: name }));
    return true;
  } catch {
    return false;
  }
}

describe("the controller and composites", () => {
  afterEach(() => harnesses.cleanup());

  const start = () =>
    harnesses.start(
      [
        { name: "dev", matchTags: { Env: "dev" } },
        { name: "etl", matchTags: { App: "etl" } },
      ],
      {
        instances: [
          { id: both, tags: { Env: "dev", App: "etl" } },
          { id: devOnly, tags: { Env: "dev" } },
        ],
      },
    );

  it("a resync converges composites once, and the status of each member names the composite it shares", async () => {
    const h = await start();
    await h.resync();
    expect(await profileOf(h.sim, both)).toBe(composite);
    expect(await profileOf(h.sim, devOnly)).toBe("rolecall-dev");
    // Each composite's actions ran once, not once per member.
    expect(h.mutations().filter((call) => call === "iam:CreateRole")).toHaveLength(3);
    const dev = (await h.statusDocument()).manifests.find((manifest) => manifest.name === "dev");
    expect(dev?.instances).toContainEqual(
      expect.objectContaining({
        id: both,
        association: "associated",
        profile: composite,
        sharedWith: ["etl"],
      }),
    );
    expect(dev?.conditions.find((condition) => condition.type === "Ready")?.status).toBe("True");
    await h.resync();
    expect(h.mutations()).toEqual([]);
  });

  it("an edit that ends the overlap moves the instance back at once, and the composite goes with the same reconcile", async () => {
    const h = await start();
    await h.resync();
    h.mutations();
    await h.write({ name: "etl", matchTags: { App: "batch" } });
    await h.changed();
    expect(await profileOf(h.sim, both)).toBe("rolecall-dev");
    expect(await roleExists(h.sim, composite)).toBe(false);
    expect(h.mutations()).toContain("ec2:ReplaceIamInstanceProfileAssociation");
    await h.resync();
    expect(h.mutations()).toEqual([]);
  });

  it("a tag removed behind its back: the resync moves the instance and removes the composite in one go, no retry", async () => {
    const h = await start();
    await h.resync();
    h.sim.setInstanceTags(both, { Env: "dev" });
    h.mutations();
    await h.resync();
    expect(await profileOf(h.sim, both)).toBe("rolecall-dev");
    expect(await roleExists(h.sim, composite)).toBe(false);
    const dev = (await h.statusDocument()).manifests.find((manifest) => manifest.name === "dev");
    expect(dev?.lastReconcile?.result).toBe("converged");
    expect(h.controller.queueDepth()).toBe(0);
    expect(h.mutations()).toContain("iam:DeleteRole");
    await h.resync();
    expect(h.mutations()).toEqual([]);
  });

  it("an edit that creates an overlap gives the instance its composite without waiting for the resync", async () => {
    const h = await harnesses.start(
      [
        { name: "dev", matchTags: { Env: "dev" } },
        { name: "etl", matchTags: { App: "batch" } },
      ],
      { instances: [{ id: both, tags: { Env: "dev", App: "etl" } }] },
    );
    await h.resync();
    expect(await profileOf(h.sim, both)).toBe("rolecall-dev");
    await h.write({ name: "etl", matchTags: { App: "etl" } });
    await h.changed();
    expect(await profileOf(h.sim, both)).toBe(composite);
  });
});
