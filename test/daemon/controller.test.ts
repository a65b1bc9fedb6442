import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  DescribeIamInstanceProfileAssociationsCommand,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
} from "@aws-sdk/client-ec2";
import {
  GetInstanceProfileCommand,
  GetRoleCommand,
  ListRoleTagsCommand,
  type GetInstanceProfileCommandOutput,
  type ListRoleTagsCommandOutput,
} from "@aws-sdk/client-iam";
import { afterEach, describe, expect, it } from "vitest";
import type { SimCloud } from "../../src/aws/sim/sim-cloud.js";
import { readManifestDirectory } from "../../src/fs/read-manifest-files.js";
import type { Condition } from "../../src/status/conditions.js";
import type { ManifestStatusView } from "../../src/status/status-store.js";
import {
  controllerHarnesses,
  type ControllerHarness,
  type ReadDirectory,
} from "../support/controller-harness.js";
import { manifestYaml, type ManifestSpec } from "../support/drift-kit.js";

const instances = [
  { id: "i-0aaaaaaaaaaaaaaa1", tags: { Team: "alpha" } },
  { id: "i-0bbbbbbbbbbbbbbb1", tags: { Team: "beta" } },
  { id: "i-0ccccccccccccccc1", tags: { Team: "gamma" } },
];
const harnesses = controllerHarnesses("controller");

/** A controller on the simulated cloud over these manifests (see test/support/controller-harness.ts). */
function harness(
  specs: readonly ManifestSpec[],
  allowMassPrune = false,
  readDirectory?: ReadDirectory,
  settleMs = 0,
): Promise<ControllerHarness> {
  return harnesses.start(specs, {
    instances,
    allowMassPrune,
    settleMs,
    ...(readDirectory === undefined ? {} : { readDirectory: () => readDirectory }),
  });
}

const alpha: ManifestSpec = { name: "alpha", matchTags: { Team: "alpha" } };
const beta: ManifestSpec = { name: "beta", matchTags: { Team: "beta" }, deletionPolicy: "delete" };
const gamma: ManifestSpec = { name: "gamma", matchTags: { Team: "gamma" }, deletionPolicy: "retain" };

function conditionOf(view: ManifestStatusView | undefined, type: Condition["type"]): Condition | undefined {
  return view?.conditions.find((condition) => condition.type === type);
}

async function profileOf(sim: SimCloud, instanceId: string): Promise<string | undefined> {
  const output = (await sim.ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [{ Name: "instance-id", Values: [instanceId] }],
    }),
  )) as DescribeIamInstanceProfileAssociationsCommandOutput;
  const arn = output.IamInstanceProfileAssociations?.find((association) => association.State === "associated")
    ?.IamInstanceProfile?.Arn;
  return arn?.split("/").at(-1);
}

async function roleExists(sim: SimCloud, name: string): Promise<boolean> {
  try {
    await sim.iam.send(new GetRoleCommand({ RoleName: name }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchEntityException") return false;
    throw error;
  }
}

/** Lets other promise chains run until `condition` holds (bounded). */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !condition(); turn += 1)
    await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

afterEach(async () => {
  await harnesses.cleanup();
});

describe("Controller over the simulated cloud", () => {
  it("the first resync converges every manifest and then the daemon is ready", async () => {
    const h = await harness([alpha, beta, gamma]);
    expect(h.controller.isReady()).toBe(false);
    h.controller.start();
    await h.resync();

    expect(h.controller.isReady()).toBe(true);
    expect(await profileOf(h.sim, "i-0aaaaaaaaaaaaaaa1")).toBe("rolecall-alpha");
    expect(await profileOf(h.sim, "i-0bbbbbbbbbbbbbbb1")).toBe("rolecall-beta");
    expect(await profileOf(h.sim, "i-0ccccccccccccccc1")).toBe("rolecall-gamma");
    const document = h.status.document();
    expect(document.summary).toMatchObject({ manifests: 3, ready: 3, invalid: 0, drifted: 0, conflicts: 0 });
    expect(document.summary.lastResyncAt).not.toBeNull();
    for (const view of document.manifests) {
      expect(conditionOf(view, "Ready")).toMatchObject({
        status: "True",
        observedGeneration: view.generation,
      });
      expect(view.instances).toEqual([expect.objectContaining({ association: "associated" })]);
      expect(view.resources.roleArn).toBe(`arn:aws:iam::123456789012:role/rolecall/rolecall-${view.name}`);
      expect(view.lastReconcile?.result).toBe("converged");
    }
    expect(h.mutations().length).toBeGreaterThan(10);

    // A second pass finds nothing to do.
    await h.resync();
    expect(h.mutations()).toEqual([]);
    expect(h.controller.queueDepth()).toBe(0);
  });

  it("with no manifests at all, the first pass makes it ready", async () => {
    const h = await harness([]);
    await h.resync();
    expect(h.controller.isReady()).toBe(true);
    expect(h.status.document().summary.manifests).toBe(0);
  });

  it("an edit re-converges only the changed manifest", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    h.mutations();
    const historyBefore = Object.fromEntries(
      h.status.document().manifests.map((view) => [view.name, view.history.length]),
    );
    const generationBefore = h.status.manifest("beta")?.generation;

    await h.write({ ...beta, grants: [{ bucket: "beta-other-bucket", access: "read-write" }] });
    await h.changed();

    expect(h.mutations()).toEqual(["iam:CreatePolicyVersion"]);
    const after = h.status.document();
    const history = Object.fromEntries(after.manifests.map((view) => [view.name, view.history.length]));
    expect(history).toEqual({ ...historyBefore, beta: (historyBefore.beta ?? 0) + 1 });
    const view = h.status.manifest("beta");
    expect(view?.generation).not.toBe(generationBefore);
    expect(conditionOf(view, "Ready")).toMatchObject({
      status: "True",
      observedGeneration: view?.generation,
    });
    expect(view?.lastReconcile?.actions.map((action) => action.description)).toEqual([
      expect.stringContaining("policy rolecall-beta"),
    ]);
  });

  it("a file still being written keeps its previous content in force until it settles", async () => {
    // A resync can read a file in the middle of a plain `git checkout`; half a manifest can be a valid, wider one.
    const writing = new Set<string>();
    const read: ReadDirectory = async (directory) =>
      (await readManifestDirectory(directory)).map((input) =>
        "bytes" in input
          ? { ...input, modifiedAt: writing.has(path.basename(input.file)) ? Date.now() : 0 }
          : input,
      );
    const h = await harness([alpha, beta], false, read, 150);
    await h.resync();
    h.mutations();
    const before = h.status.manifest("beta")?.generation;

    writing.add("beta.yaml");
    await h.write({ ...beta, grants: [{ bucket: "beta-other-bucket", access: "read-write" }] });
    await h.resync();
    expect(h.status.manifest("beta")?.generation).toBe(before);
    expect(h.mutations()).toEqual([]);

    // Settled: the re-read the controller scheduled for itself applies it.
    writing.delete("beta.yaml");
    const deadline = Date.now() + 5000;
    while (h.status.manifest("beta")?.generation === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await h.controller.idle();
    expect(h.status.manifest("beta")?.generation).not.toBe(before);
    expect(h.mutations()).toEqual(["iam:CreatePolicyVersion"]);
  });

  it("an edit that changes nothing reconciles nothing", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    h.mutations();
    const before = h.status.document().manifests.map((view) => view.history.length);
    await h.write(beta);
    await h.changed();
    expect(h.status.document().manifests.map((view) => view.history.length)).toEqual(before);
    expect(h.mutations()).toEqual([]);
  });

  for (const [kind, content] of [
    [
      "a schema violation",
      manifestYaml({ ...beta, grants: [{ bucket: "beta-bucket", access: "admin" as "read" }] }),
    ],
    ["a YAML syntax error", `${manifestYaml(beta)}\n  broken: [unclosed\n`],
  ] as const) {
    it(`an invalid edit (${kind}) keeps the last valid version in force and reports file and line`, async () => {
      const h = await harness([alpha, beta, gamma]);
      await h.resync();
      h.mutations();
      const generation = h.status.manifest("beta")?.generation;
      const file = path.join(h.directory, "beta.yaml");

      await writeFile(file, content);
      await h.changed();
      await h.resync();

      // Nothing deleted or changed: the last valid version stays in force.
      expect(h.mutations()).toEqual([]);
      expect(await profileOf(h.sim, "i-0bbbbbbbbbbbbbbb1")).toBe("rolecall-beta");
      expect(await roleExists(h.sim, "rolecall-beta")).toBe(true);

      const document = h.status.document();
      expect(document.errors.length).toBeGreaterThan(0);
      for (const error of document.errors) {
        expect(error.file).toBe(file);
        expect(error.line).toBeGreaterThan(1);
      }
      expect(document.summary.invalid).toBe(1);
      expect(document.summary.manifests).toBe(3);
      // beta is still listed as a manifest (not as removed), invalid, with the error and what stays in force.
      expect(document.removed).toEqual([]);
      const view = h.status.manifest("beta");
      expect(view?.generation).toBe(generation);
      const valid = conditionOf(view, "Valid");
      expect(valid).toMatchObject({ status: "False", reason: "ManifestInvalid" });
      expect(valid?.message).toContain(`${file}:${document.errors[0]?.line}:`);
      expect(valid?.message).toContain(`generation ${generation}`);
      expect(conditionOf(view, "Ready")).toMatchObject({ status: "False", reason: "ManifestInvalid" });

      // Fixed again: valid and ready, still without touching AWS.
      await h.write(beta);
      await h.changed();
      expect(conditionOf(h.status.manifest("beta"), "Ready")?.status).toBe("True");
      expect(h.status.document().errors).toEqual([]);
      expect(h.mutations()).toEqual([]);
    });
  }

  it("drift behind its back is repaired at the next resync", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    h.sim.setInstanceTags("i-0aaaaaaaaaaaaaaa1", { Team: "nobody" });
    h.sim.launchInstance({ id: "i-0aaaaaaaaaaaaaaa2", tags: { Team: "alpha" } });
    h.mutations();
    await h.resync();
    expect(await profileOf(h.sim, "i-0aaaaaaaaaaaaaaa2")).toBe("rolecall-alpha");
    expect(await profileOf(h.sim, "i-0aaaaaaaaaaaaaaa1")).toBeUndefined();
    expect(h.mutations().sort()).toEqual([
      "ec2:AssociateIamInstanceProfile",
      "ec2:DisassociateIamInstanceProfile",
    ]);
  });

  it("removing the manifests directory deletes nothing and says why; it comes back when the directory does", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    h.mutations();

    await rm(h.directory, { recursive: true, force: true });
    await h.changed();
    await h.resync();
    await h.resync();

    expect(h.mutations()).toEqual([]);
    for (const name of ["alpha", "beta", "gamma"])
      expect(await roleExists(h.sim, `rolecall-${name}`)).toBe(true);
    const document = h.status.document();
    expect(document.notices).toEqual([
      expect.objectContaining({
        reason: "ManifestsUnreadable",
        message: expect.stringContaining("nothing is removed") as string,
      }),
    ]);
    expect(document.summary.manifests).toBe(3);
    expect(document.removed).toEqual([]);
    expect(h.controller.directoryIsReadable()).toBe(false);

    await mkdir(h.directory);
    for (const spec of [alpha, beta, gamma]) await h.write(spec);
    await h.changed();
    expect(h.controller.directoryIsReadable()).toBe(true);
    expect(h.status.document().notices).toEqual([]);
    expect(h.mutations()).toEqual([]);
  });

  it("an emptied manifests directory is refused as a mass removal: nothing is deleted", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    h.mutations();
    for (const name of ["alpha", "beta", "gamma"]) await h.remove(name);
    await h.changed();
    await h.resync();
    // Marking gamma's retained resources orphaned destroys nothing, so the guard lets it through.
    expect(h.mutations().filter((call) => !/^iam:Tag/.test(call))).toEqual([]);
    for (const name of ["alpha", "beta", "gamma"])
      expect(await roleExists(h.sim, `rolecall-${name}`)).toBe(true);
    expect(await profileOf(h.sim, "i-0aaaaaaaaaaaaaaa1")).toBe("rolecall-alpha");
    expect(h.status.document().notices.map((notice) => notice.reason)).toContain("PruneSuspended");
  });

  it("deleting one manifest of three with deletionPolicy delete removes its resources, then forgets it", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    h.mutations();

    await h.remove("beta");
    await h.changed();

    expect(await roleExists(h.sim, "rolecall-beta")).toBe(false);
    expect(await profileOf(h.sim, "i-0bbbbbbbbbbbbbbb1")).toBeUndefined();
    expect(h.mutations()).toEqual([
      "ec2:DisassociateIamInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile",
      "iam:DeleteInstanceProfile",
      "iam:DetachRolePolicy",
      "iam:DeleteRole",
      "iam:DeletePolicy",
    ]);
    expect(h.status.document().removed.map((view) => view.name)).toEqual(["beta"]);
    expect(h.status.document().summary.manifests).toBe(2);

    // Its clean-up done, the next resync forgets it; the others are untouched.
    await h.resync();
    expect(h.status.document().removed).toEqual([]);
    expect(await roleExists(h.sim, "rolecall-alpha")).toBe(true);
    expect(await roleExists(h.sim, "rolecall-gamma")).toBe(true);
    expect(h.mutations()).toEqual([]);
  });

  it("deleting one manifest of three with deletionPolicy retain keeps its resources, tagged orphaned", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    h.mutations();

    await h.remove("gamma");
    await h.changed();

    expect(await roleExists(h.sim, "rolecall-gamma")).toBe(true);
    expect(await profileOf(h.sim, "i-0ccccccccccccccc1")).toBe("rolecall-gamma");
    const tags = (await h.sim.iam.send(
      new ListRoleTagsCommand({ RoleName: "rolecall-gamma" }),
    )) as ListRoleTagsCommandOutput;
    expect(tags.Tags).toContainEqual({ Key: "rolecall.dev/orphaned", Value: "true" });
    expect(
      (
        (await h.sim.iam.send(
          new GetInstanceProfileCommand({ InstanceProfileName: "rolecall-gamma" }),
        )) as GetInstanceProfileCommandOutput
      ).InstanceProfile?.Roles?.[0]?.RoleName,
    ).toBe("rolecall-gamma");
    expect([...h.mutations()].sort()).toEqual(["iam:TagInstanceProfile", "iam:TagPolicy", "iam:TagRole"]);
    await h.resync();
    expect(h.mutations()).toEqual([]);
  });

  it("removing two of three manifests at once is held back unless mass prune is allowed", async () => {
    const held = await harness([alpha, beta, { ...gamma, deletionPolicy: "delete" }]);
    await held.resync();
    held.mutations();
    await held.remove("beta");
    await held.remove("gamma");
    await held.changed();
    // Said at once, not only after the next resync.
    const notice = () =>
      held.status.document().notices.find((candidate) => candidate.reason === "PruneSuspended");
    expect(notice()?.message).toContain("2 of 3");
    await held.resync();
    expect(held.mutations()).toEqual([]);
    expect(await roleExists(held.sim, "rolecall-beta")).toBe(true);
    expect(notice()?.message).toContain("2 of 3");
    const removed = held.status.document().removed.find((view) => view.name === "beta");
    expect(removed?.conditions.find((condition) => condition.type === "Synced")?.reason).toBe(
      "PruneGuardTripped",
    );

    const allowed = await harness([alpha, beta, { ...gamma, deletionPolicy: "delete" }], true);
    await allowed.resync();
    await allowed.remove("beta");
    await allowed.remove("gamma");
    await allowed.changed();
    expect(await roleExists(allowed.sim, "rolecall-beta")).toBe(false);
    expect(await roleExists(allowed.sim, "rolecall-gamma")).toBe(false);
    expect(await roleExists(allowed.sim, "rolecall-alpha")).toBe(true);
  });

  it("observe mode reports drift and changes nothing", async () => {
    const h = await harness([alpha, { ...beta, mode: "observe" }, gamma]);
    await h.resync();
    expect(await roleExists(h.sim, "rolecall-beta")).toBe(false);
    const view = h.status.manifest("beta");
    expect(conditionOf(view, "Drifted")).toMatchObject({ status: "True", reason: "DriftDetected" });
    expect(view?.drift.length).toBeGreaterThan(0);
    expect(h.status.document().summary).toMatchObject({ ready: 2, drifted: 1 });
    expect(h.sim.calls.filter((call) => call.includes("beta"))).toEqual([]);
  });

  it("directory reads are applied in order: a slow older read never overrides a newer one", async () => {
    let gate: (() => void) | undefined;
    let reads = 0;
    let content = manifestYaml(alpha);
    const h = await harness([], false, async (directory) => {
      reads += 1;
      const inputs = [{ file: path.join(directory, "alpha.yaml"), bytes: Buffer.from(content) }];
      // The second read stalls after reading the old content, while a third one reads the new.
      if (reads === 2) await new Promise<void>((resolve) => (gate = resolve));
      return inputs;
    });
    await h.resync();
    const first = h.status.manifest("alpha")?.generation;

    const stalled = h.controller.manifestsChanged();
    await waitUntil(() => gate !== undefined);
    content = manifestYaml({ ...alpha, grants: [{ bucket: "alpha-newer", access: "read" }] });
    const newer = h.controller.manifestsChanged();
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    gate?.();
    await Promise.all([stalled, newer]);
    await h.controller.idle();

    const generation = h.status.manifest("alpha")?.generation;
    expect(generation).not.toBe(first);
    expect(conditionOf(h.status.manifest("alpha"), "Ready")).toMatchObject({
      status: "True",
      observedGeneration: generation,
    });
    expect(reads).toBe(3);
  });

  it("stop() takes no more work: a later change reconciles nothing", async () => {
    const h = await harness([alpha]);
    await h.resync();
    await h.controller.stop();
    h.mutations();
    await h.write({ ...alpha, grants: [{ bucket: "other", access: "read" }] });
    await h.controller.manifestsChanged();
    await h.controller.resync();
    await h.controller.idle();
    expect(h.mutations()).toEqual([]);
  });

  it("metrics follow the reconciles", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    const value = async (name: string) =>
      (await h.metrics.registry.getSingleMetric(name)?.get())?.values.reduce(
        (sum, sample) => sum + sample.value,
        0,
      );
    expect(await value("rolecall_reconcile_total")).toBe(3);
    expect(await value("rolecall_aws_api_requests_total")).toBe(
      h.sim.calls.filter((call) => call.startsWith("iam:") || call.startsWith("ec2:")).length,
    );
    expect(await value("rolecall_last_resync_timestamp_seconds")).toBeGreaterThan(0);
    const manifests = await h.metrics.registry.getSingleMetric("rolecall_manifests")?.get();
    expect(
      Object.fromEntries((manifests?.values ?? []).map((sample) => [sample.labels.state, sample.value])),
    ).toEqual({ valid: 3, invalid: 0, ready: 3, drifted: 0, conflict: 0 });
  });
});
