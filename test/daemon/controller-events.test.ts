import { writeFile } from "node:fs/promises";
import { DetachRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DisassociateIamInstanceProfileCommand,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
} from "@aws-sdk/client-ec2";
import { afterEach, describe, expect, it } from "vitest";
import type { StatusEvent } from "../../src/status/status-event.js";
import { controllerHarnesses, type ControllerHarness } from "../support/controller-harness.js";
import type { ManifestSpec } from "../support/drift-kit.js";
import { commitFiles, initRepo } from "../support/git-repo.js";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.js";

const instances = [
  { id: "i-0aaaaaaaaaaaaaaa1", tags: { Team: "alpha" } },
  { id: "i-0bbbbbbbbbbbbbbb1", tags: { Team: "watch" } },
];
const alpha: ManifestSpec = { name: "alpha", matchTags: { Team: "alpha" } };
const watched: ManifestSpec = { name: "watched", matchTags: { Team: "watch" }, mode: "observe" };
const harnesses = controllerHarnesses("controller-events");
afterEach(() => harnesses.cleanup());

async function started(specs: readonly ManifestSpec[]) {
  const h = await harnesses.start(specs, { instances });
  const events: StatusEvent[] = [];
  h.status.subscribe((event) => events.push(event));
  /** The events since the last call. */
  const fresh = () => events.splice(0).map((event) => `${event.type} ${event.manifest ?? "-"}`);
  return { h, fresh, events };
}

async function driftCounter(h: ControllerHarness): Promise<number | undefined> {
  return sampleValue(
    parsePrometheusText(await h.metrics.registry.metrics()),
    "rolecall_drift_detected_total",
  );
}

describe("events: one per transition, none per resync", () => {
  it("a cold create is no drift; a policy detached by hand is one DriftDetected and one DriftRepaired", async () => {
    const { h, fresh } = await started([alpha]);
    await h.resync();
    expect(fresh()).toEqual([]);
    expect(await driftCounter(h)).toBe(0);

    await h.sim.iam.send(
      new DetachRolePolicyCommand({
        RoleName: "rolecall-alpha",
        PolicyArn: "arn:aws:iam::123456789012:policy/rolecall/rolecall-alpha",
      }),
    );
    await h.resync();
    expect(fresh()).toEqual(["DriftDetected alpha", "DriftRepaired alpha"]);
    expect(await driftCounter(h)).toBe(1);

    await h.resync();
    await h.resync();
    expect(fresh()).toEqual([]);
    expect(await driftCounter(h)).toBe(1);
  });

  it("an instance launched into a converged manifest gets access without a drift event", async () => {
    const { h, fresh } = await started([alpha]);
    await h.resync();
    await h.resync();
    const launched = h.sim.launchInstance({ tags: { Team: "alpha" } });
    await h.resync();
    expect(fresh()).toEqual([]);
    expect(await driftCounter(h)).toBe(0);
    const document = await h.statusDocument();
    const entry = document.manifests[0]?.instances.find((instance) => instance.id === launched);
    expect(entry?.association).toBe("associated");

    const association = (await h.sim.ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: "instance-id", Values: [launched] }],
      }),
    )) as DescribeIamInstanceProfileAssociationsCommandOutput;
    await h.sim.ec2.send(
      new DisassociateIamInstanceProfileCommand({
        AssociationId: association.IamInstanceProfileAssociations?.[0]?.AssociationId,
      }),
    );
    await h.resync();
    expect(fresh()).toEqual(["DriftDetected alpha", "DriftRepaired alpha"]);
  });

  it("an observe-mode manifest reports its drift once, not at every resync", async () => {
    const { h, fresh } = await started([watched]);
    await h.resync();
    await h.resync();
    await h.resync();
    expect(fresh()).toEqual(["DriftDetected watched"]);
    expect(await driftCounter(h)).toBe(1);
  });

  it("a file turning invalid is one ManifestInvalid, naming its file; fixing and breaking it again is another", async () => {
    const { h, fresh } = await started([alpha]);
    await h.resync();
    fresh();
    const broken =
      "apiVersion: rolecall.dev/v1alpha1\nkind: InstanceAccess\nmetadata: { name: alpha }\nspec: { grants: [] }\n";
    await writeFile(h.file("alpha.yaml"), broken);
    await h.changed();
    await h.resync();
    const invalid = h.status.manifest("alpha");
    expect(invalid?.conditions.find((condition) => condition.type === "Valid")?.status).toBe("False");
    expect(fresh()).toEqual(["ManifestInvalid alpha"]);
    await h.write(alpha);
    await h.changed();
    await writeFile(h.file("alpha.yaml"), broken);
    await h.changed();
    expect(fresh()).toEqual(["ManifestInvalid alpha"]);
  });

  it("records the Git revision in force in /status, in lastReconcile and in events", async () => {
    const { h, events } = await started([alpha]);
    await initRepo(h.directory);
    const first = await commitFiles(h.directory, {}, "Add alpha");
    await h.resync();
    const document = await h.statusDocument();
    expect(document.source).toEqual({
      path: h.directory,
      revision: first,
      revisionTime: "2026-03-01T10:00:00.000Z",
      subject: "Add alpha",
    });
    expect(document.manifests[0]?.lastReconcile?.revision).toBe(first);

    // Now observing a selector whose instance holds no profile: drift, told with the commit that caused it.
    await h.write({ ...watched, name: "alpha" });
    const second = await commitFiles(h.directory, {}, "Observe alpha only");
    await h.changed();
    const view = h.status.manifest("alpha");
    expect(view?.lastReconcile?.revision).toBe(second);
    expect(view?.history.map((record) => record.revision)).toEqual([second, first]);
    expect(events.map(({ type, revision }) => ({ type, revision }))).toEqual([
      { type: "DriftDetected", revision: second },
    ]);
  });
});
