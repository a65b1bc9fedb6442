// The daemon against a hostile or broken manifests directory: whatever the directory does, the daemon keeps serving
// /healthz, says in /status what it could not read, keeps the last valid state in force, and deletes nothing
// because of a read that went wrong.
import { execFileSync } from "node:child_process";
import { mkdir, readdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import {
  DescribeIamInstanceProfileAssociationsCommand,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
} from "@aws-sdk/client-ec2";
import {
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
} from "@aws-sdk/client-iam";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SimCloud } from "../../src/aws/sim/sim-cloud.js";
import { readManifestFile } from "../../src/fs/read-manifest-files.js";
import type { ManifestFileInput } from "../../src/manifest/examine-file.js";
import { fileError } from "../../src/manifest/manifest-error.js";
import type { Condition } from "../../src/status/conditions.js";
import type { StatusDocument } from "../../src/status/status-store.js";
import type * as ParseDocumentsModule from "../../src/manifest/parse-documents.js";
import {
  controllerHarnesses,
  within,
  type ControllerHarness,
  type ReadDirectory,
} from "../support/controller-harness.js";
import { manifestYaml, type ManifestSpec } from "../support/drift-kit.js";

// Counts every parse, so a test can tell how many files a directory read really parsed.
const parses = vi.hoisted(() => ({ count: 0 }));
vi.mock("../../src/manifest/parse-documents.js", async (importOriginal) => {
  const actual = await importOriginal<typeof ParseDocumentsModule>();
  return {
    ...actual,
    parseDocuments: (...args: Parameters<typeof actual.parseDocuments>) => {
      parses.count += 1;
      return actual.parseDocuments(...args);
    },
  };
});

/** Calls that take something away: none may follow from a read that went wrong. */
const destructive =
  /^(iam:Delete(Role|Policy|InstanceProfile|RolePolicy)$|iam:Detach|iam:RemoveRole|ec2:Disassociate)/;

const harnesses = controllerHarnesses("hostile-dir");

afterEach(async () => {
  await harnesses.cleanup();
});

const instances = [
  { id: "i-0aaaaaaaaaaaaaaa1", tags: { Team: "alpha" } },
  { id: "i-0bbbbbbbbbbbbbbb1", tags: { Team: "beta" } },
  { id: "i-0ccccccccccccccc1", tags: { Team: "gamma" } },
  { id: "i-0ddddddddddddddd1", tags: { Team: "delta" } },
];

function harness(
  specs: readonly ManifestSpec[],
  options: { readDirectory?: (real: ReadDirectory) => ReadDirectory; concurrency?: number } = {},
): Promise<ControllerHarness> {
  return harnesses.start(specs, { instances, ...options });
}

const alpha: ManifestSpec = { name: "alpha", matchTags: { Team: "alpha" }, deletionPolicy: "delete" };
const beta: ManifestSpec = {
  name: "beta",
  matchTags: { Team: "beta" },
  deletionPolicy: "delete",
  grants: [
    { bucket: "beta-reports", access: "read", prefixes: ["reports/2024/", "exports/daily/"] },
    { bucket: "beta-uploads", access: "read-write" },
  ],
};
const gamma: ManifestSpec = { name: "gamma", matchTags: { Team: "gamma" }, deletionPolicy: "delete" };
const delta: ManifestSpec = { name: "delta", matchTags: { Team: "delta" }, deletionPolicy: "delete" };

/** Everything rolecall could have changed in the account, as one comparable value. */
async function liveState(sim: SimCloud): Promise<unknown> {
  const details = (await sim.iam.send(
    new GetAccountAuthorizationDetailsCommand({}),
  )) as GetAccountAuthorizationDetailsCommandOutput;
  expect(details.IsTruncated ?? false).toBe(false);
  const associations = (await sim.ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({}),
  )) as DescribeIamInstanceProfileAssociationsCommandOutput;
  return {
    roles: (details.RoleDetailList ?? []).map((role) => ({
      name: role.RoleName,
      attached: role.AttachedManagedPolicies?.map((policy) => policy.PolicyArn),
      profiles: role.InstanceProfileList?.map((profile) => profile.InstanceProfileName),
      tags: role.Tags,
    })),
    policies: (details.Policies ?? []).map((policy) => ({
      name: policy.PolicyName,
      document: policy.PolicyVersionList?.find((version) => version.IsDefaultVersion)?.Document,
    })),
    associations: (associations.IamInstanceProfileAssociations ?? [])
      .filter((association) => association.State === "associated")
      .map((association) => [association.InstanceId, association.IamInstanceProfile?.Arn])
      .sort(),
  };
}

/** The default version of a manifest's policy, decoded. */
async function policyDocumentOf(sim: SimCloud, manifest: string): Promise<string> {
  const details = (await sim.iam.send(
    new GetAccountAuthorizationDetailsCommand({ Filter: ["LocalManagedPolicy"] }),
  )) as GetAccountAuthorizationDetailsCommandOutput;
  const policy = details.Policies?.find((candidate) => candidate.PolicyName === `rolecall-${manifest}`);
  const document = policy?.PolicyVersionList?.find((version) => version.IsDefaultVersion)?.Document;
  expect(document, `policy of ${manifest}`).toBeDefined();
  return decodeURIComponent(document ?? "");
}

function conditionOf(
  document: StatusDocument,
  manifest: string,
  type: Condition["type"],
): Condition | undefined {
  return document.manifests
    .find((view) => view.name === manifest)
    ?.conditions.find((condition) => condition.type === type);
}

describe("files replaced while the daemon reads them", () => {
  it("a file renamed and another rewritten between listing and reading: nothing deleted, then all found again", async () => {
    // A reader that lists, lets the directory change, then reads what it listed: what a checkout racing a read does.
    let between: (() => Promise<void>) | undefined;
    const listThenRead = (): ReadDirectory => async (directory) => {
      const names = (await readdir(directory)).filter((name) => name.endsWith(".yaml")).sort();
      const change = between;
      between = undefined;
      await change?.();
      return Promise.all(names.map((name) => readManifestFile(path.join(directory, name))));
    };
    const h = await harness([alpha, beta, gamma], { readDirectory: listThenRead });
    await h.resync();
    const converged = await liveState(h.sim);
    h.mutations();

    between = async () => {
      await rename(h.file("alpha.yaml"), h.file("zz-alpha-moved.yaml"));
      await h.write({ ...gamma, grants: [{ bucket: "gamma-v2", access: "read" }] });
    };
    await h.changed();
    expect(await h.healthz()).toBe(200);

    // alpha's file vanished under the reader: reported, and alpha stays in force; gamma's new content applies.
    expect(h.mutations()).toEqual(["iam:CreatePolicyVersion"]);
    expect(await policyDocumentOf(h.sim, "gamma")).toContain("gamma-v2");
    let document = await h.statusDocument();
    expect(document.errors).toEqual([
      expect.objectContaining({
        file: h.file("alpha.yaml"),
        message: expect.stringContaining("ENOENT") as string,
      }),
    ]);
    expect(document.removed).toEqual([]);
    expect(document.manifests.map((view) => view.name)).toEqual(["alpha", "beta", "gamma"]);
    expect(conditionOf(document, "alpha", "Valid")?.status).toBe("False");

    // A resync while the read is still torn would remove nothing either.
    between = async () => {
      await rename(h.file("zz-alpha-moved.yaml"), h.file("alpha.yaml"));
    };
    await h.resync();
    expect(h.mutations().filter((call) => destructive.test(call))).toEqual([]);

    // The next clean read finds alpha under its new name: nothing to do, no errors left.
    await h.changed();
    await h.resync();
    document = await h.statusDocument();
    expect(document.errors).toEqual([]);
    expect(document.notices).toEqual([]);
    expect(document.summary).toMatchObject({ manifests: 3, ready: 3, invalid: 0 });
    expect(h.mutations()).toEqual([]);
    const after = (await liveState(h.sim)) as { roles: unknown; associations: unknown };
    expect(after.roles).toEqual((converged as { roles: unknown }).roles);
    expect(after.associations).toEqual((converged as { associations: unknown }).associations);
  });

  it("rapid rewrites while directory reads are in flight end in the final content, deleting nothing", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    h.mutations();
    const file = h.file("alpha.yaml");
    const valid = (bucket: string) => manifestYaml({ ...alpha, grants: [{ bucket, access: "read" }] });
    const versions = [
      valid("alpha-v1"),
      manifestYaml({ ...alpha, grants: [{ bucket: "alpha-bad", access: "admin" as "read" }] }),
      valid("alpha-v2").slice(0, 60),
      "",
      valid("alpha-v2"),
      "apiVersion: rolecall.dev/v1alpha1\nkind: InstanceAccess\nmetadata: {name: alpha\n",
      valid("alpha-v3"),
      valid("alpha-v4"),
    ];
    const reads: Promise<void>[] = [];
    for (let round = 0; round < 3; round += 1) {
      for (const content of versions) {
        const written = writeFile(file, content);
        reads.push(h.controller.manifestsChanged());
        await written;
        if (round === 1) reads.push(h.controller.resync());
      }
    }
    const final = valid("alpha-final");
    await writeFile(file, final);
    reads.push(h.controller.manifestsChanged());
    expect(await h.healthz()).toBe(200);
    await Promise.all(reads);
    await h.controller.idle();

    expect(h.mutations().filter((call) => destructive.test(call))).toEqual([]);
    const document = await h.statusDocument();
    expect(document.errors).toEqual([]);
    const ready = conditionOf(document, "alpha", "Ready");
    const view = document.manifests.find((candidate) => candidate.name === "alpha");
    expect(ready).toMatchObject({ status: "True", observedGeneration: view?.generation });
    const policy = await policyDocumentOf(h.sim, "alpha");
    expect(policy).toContain("alpha-final");
    expect(policy).not.toMatch(/alpha-v\d/);
    await h.resync();
    expect(h.mutations()).toEqual([]);
  });
});

describe("partial writes and flapping files", () => {
  it("a truncated file is invalid: the last valid version stays in force and nothing in AWS changes", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    const converged = await liveState(h.sim);
    const generation = h.status.manifest("beta")?.generation;
    h.mutations();
    const full = manifestYaml(beta);
    // Cut inside a key, inside a flow of list items, and after a dangling colon-less line: all invalid.
    const cuts = [full.indexOf("grants:") + 3, full.indexOf("access: read") + 9, full.indexOf("kind:") + 2];
    for (const cut of cuts) {
      await writeFile(h.file("beta.yaml"), full.slice(0, cut));
      await h.changed();
      await h.resync();
      expect(await h.healthz()).toBe(200);
      const document = await h.statusDocument();
      expect(conditionOf(document, "beta", "Valid"), `cut at ${cut}`).toMatchObject({
        status: "False",
        reason: "ManifestInvalid",
      });
      expect(document.manifests.find((view) => view.name === "beta")?.generation).toBe(generation);
      expect(document.errors.length, `cut at ${cut}`).toBeGreaterThan(0);
      for (const error of document.errors) expect(error.file).toBe(h.file("beta.yaml"));
      expect(document.removed).toEqual([]);
      expect(h.mutations(), `cut at ${cut}`).toEqual([]);
      expect(await liveState(h.sim)).toEqual(converged);
    }
    // The write completes: valid again, and still nothing to change.
    await writeFile(h.file("beta.yaml"), full);
    await h.changed();
    expect(conditionOf(await h.statusDocument(), "beta", "Ready")?.status).toBe("True");
    expect(h.mutations()).toEqual([]);
  });

  it("a file flipping between valid and invalid ends consistent with its final content", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    h.mutations();
    const file = h.file("gamma.yaml");
    const version = (n: number) => ({
      ...gamma,
      grants: [{ bucket: `gamma-v${n}`, access: "read" as const }],
    });
    const invalid = [
      manifestYaml({ ...gamma, matchTags: { "": "x" } }),
      `${manifestYaml(version(9))}  broken: [unclosed\n`,
      manifestYaml(version(9)).slice(0, 50),
      "\u0000\u0001binary",
    ];
    let inForce = h.status.manifest("gamma")?.generation;
    for (let flip = 1; flip <= 4; flip += 1) {
      await writeFile(file, manifestYaml(version(flip)));
      await h.changed();
      const valid = await h.statusDocument();
      expect(conditionOf(valid, "gamma", "Ready")?.status, `flip ${flip}`).toBe("True");
      expect(await policyDocumentOf(h.sim, "gamma")).toContain(`gamma-v${flip}`);
      inForce = valid.manifests.find((view) => view.name === "gamma")?.generation;

      await writeFile(file, invalid[flip - 1] ?? "");
      await h.changed();
      const broken = await h.statusDocument();
      expect(conditionOf(broken, "gamma", "Valid")?.status, `flip ${flip}`).toBe("False");
      expect(broken.manifests.find((view) => view.name === "gamma")?.generation).toBe(inForce);
      expect(await policyDocumentOf(h.sim, "gamma")).toContain(`gamma-v${flip}`);
      expect(await h.healthz()).toBe(200);
    }
    // Every mutation was an update of gamma's policy; nothing was deleted, nothing else touched.
    expect(h.mutations().every((call) => /^iam:(CreatePolicyVersion|DeletePolicyVersion)$/.test(call))).toBe(
      true,
    );

    // Ends invalid: the last valid version (4) is what stays in force, across a resync too.
    await h.resync();
    expect(await policyDocumentOf(h.sim, "gamma")).toContain("gamma-v4");
    expect(h.mutations()).toEqual([]);

    // Ends valid: exactly the final content.
    await writeFile(file, manifestYaml(version(5)));
    await h.changed();
    await h.resync();
    const final = await h.statusDocument();
    expect(final.errors).toEqual([]);
    expect(conditionOf(final, "gamma", "Ready")?.status).toBe("True");
    expect(await policyDocumentOf(h.sim, "gamma")).toContain("gamma-v5");
    expect(await policyDocumentOf(h.sim, "gamma")).not.toContain("gamma-v4");
    expect(h.status.manifest("alpha")?.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
  });
});

describe("a directory of 5,000 files", () => {
  // A capacity test, not a timed one: it takes about 28 s on a busy 2-core machine, so it gets more than the
  // default 30 s.
  it("loads, keeps serving, and a re-read after one edit parses only that file", async () => {
    const h = await harness([alpha, beta, gamma, delta], { concurrency: 8 });
    // 4 manifests in force, 4,986 in observe mode selecting nothing, 10 broken files.
    const count = 5000;
    const broken = 10;
    const filler = (index: number): ManifestSpec => {
      const name = `m-${String(index).padStart(5, "0")}`;
      return { name, matchTags: { Team: name }, mode: "observe" };
    };
    const contents: [string, string][] = [];
    for (let index = 4; index < count - broken; index += 1) {
      const spec = filler(index);
      contents.push([`${spec.name}.yaml`, manifestYaml(spec)]);
    }
    for (let index = 0; index < broken; index += 1) {
      contents.push([
        `broken-${index}.yaml`,
        index % 2 === 0
          ? manifestYaml({ name: `broken-${index}`, grants: [{ bucket: "x", access: "read" }] })
          : "metadata: {name: [unclosed\n",
      ]);
    }
    for (let start = 0; start < contents.length; start += 500)
      await Promise.all(
        contents.slice(start, start + 500).map(([name, text]) => writeFile(h.file(name), text)),
      );
    expect(await readdir(h.directory)).toHaveLength(count);

    parses.count = 0;
    const loading = h.resync();
    // The HTTP server answers while the directory loads.
    const [health] = await Promise.all([h.healthz(), loading]);
    expect(health).toBe(200);
    expect(parses.count).toBe(count);
    const document = await h.statusDocument();
    // The broken files that still name their manifest are listed as invalid manifests; the others only as errors.
    expect(document.summary).toMatchObject({ manifests: count - broken / 2, ready: 4, invalid: broken });
    expect(new Set(document.errors.map((error) => path.basename(error.file))).size).toBe(broken);
    for (const name of ["alpha", "beta", "gamma", "delta"])
      expect(conditionOf(document, name, "Ready")?.status, name).toBe("True");
    expect((await liveState(h.sim)) as { roles: unknown[] }).toMatchObject({ roles: { length: 4 } });
    h.mutations();

    // One edit: the re-read parses that file only, and reconciles that manifest only.
    parses.count = 0;
    await h.write({ ...beta, grants: [{ bucket: "beta-edited", access: "read" }] });
    await h.changed();
    expect(parses.count).toBe(1);
    expect(h.mutations()).toEqual(["iam:CreatePolicyVersion"]);
    expect(await policyDocumentOf(h.sim, "beta")).toContain("beta-edited");

    // And a re-read with no change parses nothing.
    parses.count = 0;
    await h.changed();
    expect(parses.count).toBe(0);
    expect(h.mutations()).toEqual([]);
  }, 90_000);
});

describe("links, special files and unreadable files", () => {
  it("symlink loops do not hang the read: the loops are reported, everything else is in force", async () => {
    const h = await harness([alpha, beta]);
    await mkdir(h.file("nested/deeper"), { recursive: true });
    await symlink(h.directory, h.file("nested/deeper/back-to-root"));
    await symlink("..", h.file("nested/deeper/up"));
    await symlink(".", h.file("nested/self-dir"));
    await symlink("self.yaml", h.file("self.yaml"));
    await symlink("ping.yaml", h.file("pong.yaml"));
    await symlink("pong.yaml", h.file("ping.yaml"));
    await h.write({ ...gamma, name: "gamma" });
    await rename(h.file("gamma.yaml"), h.file("nested/deeper/gamma.yaml"));

    await within("a resync over symlink loops", 10_000, h.resync());
    await within("a re-read over symlink loops", 10_000, h.changed());
    expect(await h.healthz()).toBe(200);
    const document = await h.statusDocument();
    expect(document.summary).toMatchObject({ manifests: 3, ready: 3 });
    expect(document.manifests.find((view) => view.name === "gamma")?.file).toBe(
      h.file("nested/deeper/gamma.yaml"),
    );
    // Each looping link reported once; the directory loops are walked once and not reported.
    expect(document.errors.map((error) => [path.basename(error.file), error.message]).sort()).toEqual([
      ["ping.yaml", expect.stringContaining("ELOOP")],
      ["pong.yaml", expect.stringContaining("ELOOP")],
      ["self.yaml", expect.stringContaining("ELOOP")],
    ]);
  });

  it("an unreadable file is reported, and nothing is removed while it cannot be read", async () => {
    // Tests run as root, for whom chmod 000 denies nothing: the reader reports EACCES for beta's file instead.
    let denied: string | undefined;
    const h = await harness([alpha, beta, gamma, delta], {
      readDirectory: (real) => async (directory) =>
        (await real(directory)).map((input): ManifestFileInput =>
          input.file === denied
            ? { file: input.file, error: fileError(input.file, "FileUnreadable", "cannot read file: EACCES") }
            : input,
        ),
    });
    await h.resync();
    const converged = await liveState(h.sim);
    h.mutations();

    denied = h.file("beta.yaml");
    // While beta cannot be read, delta is deleted from the directory: its removal must wait, since the unreadable
    // file could be where delta went.
    await rm(h.file("delta.yaml"));
    await h.changed();
    await h.resync();
    expect(await h.healthz()).toBe(200);
    expect(h.mutations()).toEqual([]);
    expect(await liveState(h.sim)).toEqual(converged);
    let document = await h.statusDocument();
    expect(document.errors).toEqual([
      expect.objectContaining({ file: denied, message: expect.stringContaining("EACCES") as string }),
    ]);
    // (The notice does not name the file; the error above does.)
    expect(document.notices).toEqual([
      expect.objectContaining({
        reason: "PruneSuspended",
        message: expect.stringContaining("nothing is removed") as string,
      }),
    ]);
    expect(conditionOf(document, "beta", "Valid")?.status).toBe("False");
    expect(document.manifests.map((view) => view.name)).toContain("beta");

    // Readable again: beta is valid and untouched, and delta's held-back removal goes ahead at once (not only at
    // the next resync).
    denied = undefined;
    await h.changed();
    document = await h.statusDocument();
    expect(document.errors).toEqual([]);
    expect(conditionOf(document, "beta", "Ready")?.status).toBe("True");
    expect(document.notices).toEqual([]);
    // One manifest's removal, and it is delta's.
    expect(h.mutations()).toEqual([
      "ec2:DisassociateIamInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile",
      "iam:DeleteInstanceProfile",
      "iam:DetachRolePolicy",
      "iam:DeleteRole",
      "iam:DeletePolicy",
    ]);
    const after = (await liveState(h.sim)) as { roles: { name?: string }[] };
    expect(after.roles.map((role) => role.name).sort()).toEqual([
      "rolecall-alpha",
      "rolecall-beta",
      "rolecall-gamma",
    ]);
  });

  it("a FIFO, a socket and a directory named like manifests are no manifests, and hang nothing", async () => {
    const h = await harness([alpha, beta]);
    execFileSync("mkfifo", [h.file("pipe.yaml")]);
    const socket = createServer();
    await new Promise<void>((resolve) => socket.listen(h.file("socket.yaml"), resolve));
    harnesses.defer(() => new Promise((resolve) => socket.close(resolve)));
    await mkdir(h.file("folder.yaml"));
    await h.write({ ...gamma });
    await rename(h.file("gamma.yaml"), h.file("folder.yaml/gamma.yaml"));

    await within("a resync with a FIFO in the directory", 10_000, h.resync());
    expect(await h.healthz()).toBe(200);
    const document = await h.statusDocument();
    expect(document.summary).toMatchObject({ manifests: 3, ready: 3 });
    expect(document.errors.map((error) => [error.file, error.message])).toEqual([
      [h.file("pipe.yaml"), expect.stringContaining("not a regular file")],
      [h.file("socket.yaml"), expect.stringContaining("not a regular file")],
    ]);
  });
});

describe("the directory itself deleted and recreated", () => {
  it("nothing is deleted while it is gone or comes back empty; it converges on what it holds after", async () => {
    const h = await harness([alpha, beta, gamma]);
    await h.resync();
    const converged = await liveState(h.sim);
    h.mutations();

    await rm(h.directory, { recursive: true, force: true });
    await h.changed();
    await h.resync();
    expect(await h.healthz()).toBe(200);
    let document = await h.statusDocument();
    expect(document.notices).toEqual([
      expect.objectContaining({
        reason: "ManifestsUnreadable",
        message: expect.stringContaining("nothing is removed") as string,
      }),
    ]);
    expect(document.summary.manifests).toBe(3);
    expect(document.removed).toEqual([]);
    expect(h.mutations()).toEqual([]);

    // Recreated, but empty for a moment (a checkout in progress): every manifest looks removed at once, which the
    // mass-removal guard refuses.
    await mkdir(h.directory);
    await h.changed();
    await h.resync();
    expect(await h.healthz()).toBe(200);
    expect(h.mutations().filter((call) => destructive.test(call))).toEqual([]);
    document = await h.statusDocument();
    expect(document.notices.map((notice) => notice.reason)).toEqual(["PruneSuspended"]);

    // Filled again, with one edit: converges on exactly that.
    await h.write(alpha);
    await h.write(beta);
    await h.write({ ...gamma, grants: [{ bucket: "gamma-after", access: "read" }] });
    await h.changed();
    await h.resync();
    document = await h.statusDocument();
    expect(document.notices).toEqual([]);
    expect(document.errors).toEqual([]);
    expect(document.summary).toMatchObject({ manifests: 3, ready: 3 });
    expect(await policyDocumentOf(h.sim, "gamma")).toContain("gamma-after");
    const after = (await liveState(h.sim)) as { roles: unknown; associations: unknown };
    expect(after.roles).toEqual((converged as { roles: unknown }).roles);
    expect(after.associations).toEqual((converged as { associations: unknown }).associations);
    await h.resync();
    expect(h.mutations().filter((call) => destructive.test(call))).toEqual([]);
  });
});
