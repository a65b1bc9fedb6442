import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AwsActionExecutor } from "../../src/aws/aws-action-executor.js";
import { compositeMembersOf, isCompositeName } from "../../src/desired/composite.js";
import type { DesiredAccess } from "../../src/desired/desired-access.js";
import { selects } from "../../src/desired/desired-access.js";
import { Engine } from "../../src/engine/engine.js";
import { freshRead } from "../../src/engine/state-source.js";
import type { AccessLevel } from "../../src/manifest/instance-access.js";
import { policyNamed, profileNamed, roleNamed } from "../../src/observed/snapshot-lookup.js";
import { nameFromArn, type Snapshot } from "../../src/observed/snapshot.js";
import { desiredFor, iamPath } from "../support/desired-fixtures.js";
import { isAllowed, type Policy, type Request } from "../support/iam-evaluator.js";
import { observeAccount, simAccountOf } from "../support/sim-account.js";
import { snapshotOf } from "../support/snapshot-fixtures.js";

/*
 * Random manifests selecting by tags (and sometimes IDs) over random instances, converged from an empty simulated
 * account by one pass of the real engine and executor: every instance's effective access (what the policies on
 * the role it holds allow, by IAM's evaluation) is exactly the union of what its selecting enforce-mode manifests
 * declare; no instance holds a composite it does not need, and no composite is left that no instance holds.
 */

const buckets = ["alpha", "beta"] as const;
const tagKeys = ["Env", "App", "Team"] as const;
const instanceIds = [
  "i-00000001",
  "i-00000002",
  "i-00000003",
  "i-00000004",
  "i-00000005",
  "i-00000006",
] as const;

const grantArbitrary = fc.record({
  bucket: fc.constantFrom(...buckets),
  access: fc.constantFrom<AccessLevel>("read", "write", "read-write"),
  prefixes: fc.option(fc.constantFrom(["in/"], ["out/"], ["in/", "out/"]), { nil: undefined }),
});

const manifestArbitrary = (name: string): fc.Arbitrary<DesiredAccess> =>
  fc
    .record({
      key: fc.constantFrom(...tagKeys),
      value: fc.constantFrom("1", "2"),
      ids: fc.subarray([...instanceIds], { maxLength: 1 }),
      grants: fc.array(grantArbitrary, { minLength: 1, maxLength: 2 }),
      mode: fc.constantFrom("enforce", "enforce", "enforce", "observe"),
    })
    .map(({ key, value, ids, grants, mode }) =>
      desiredFor(name, {
        instanceSelector: { matchTags: { [key]: value }, ...(ids.length === 0 ? {} : { instanceIds: ids }) },
        grants: grants.map((grant) => ({
          bucket: grant.bucket,
          access: grant.access,
          ...(grant.prefixes === undefined ? {} : { prefixes: [...grant.prefixes] }),
        })),
        mode: mode,
      }),
    );

const manifestsArbitrary = fc
  .integer({ min: 1, max: 5 })
  .chain((count) => fc.tuple(...Array.from({ length: count }, (_, index) => manifestArbitrary(`m${index}`))));

const instancesArbitrary = fc.tuple(
  ...instanceIds.map((id) =>
    fc
      .subarray([...tagKeys])
      .chain((keys) =>
        fc.tuple(...keys.map((key) => fc.constantFrom("1", "2").map((value) => [key, value] as const))),
      )
      .map((pairs) => ({ id, tags: Object.fromEntries(pairs) })),
  ),
);

/** A fleet converged once, then changed (other manifests, other tags) and converged again. */
const scenarioArbitrary = fc.record({
  manifests: manifestsArbitrary,
  instances: instancesArbitrary,
  later: fc.record({ manifests: manifestsArbitrary, instances: instancesArbitrary }),
  maxPoliciesPerRole: fc.constantFrom(2, 2, 3, 10),
});

/** Requests that tell the access levels and prefixes apart, on every bucket of the pool. */
const requests: Request[] = buckets.flatMap((bucket) => {
  const arn = `arn:aws:s3:::${bucket}`;
  const objects = ["in/x", "out/x", "other/x"].flatMap((key) =>
    ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"].map((action) => ({
      action,
      resource: `${arn}/${key}`,
    })),
  );
  const listing = ["in/", "out/", "other/"].map((prefix) => ({
    action: "s3:ListBucket",
    resource: arn,
    context: { "s3:prefix": prefix },
  }));
  return [...objects, ...listing, { action: "s3:ListBucketMultipartUploads", resource: arn }];
});

const allowedBy = (policies: readonly Policy[]) =>
  requests
    .map((request) => (policies.length > 0 && isAllowed({ identity: policies }, request) ? "y" : "n"))
    .join("");

/** The documents of the managed policies on the role of the profile an instance holds, as the account has them. */
function effectivePolicies(snapshot: Snapshot, instanceId: string): Policy[] {
  const association = snapshot.associations.get(instanceId);
  if (association === undefined) return [];
  const role = profileNamed(snapshot, nameFromArn(association.profileArn))?.roleNames[0];
  const arns = role === undefined ? [] : (roleNamed(snapshot, role)?.attachedPolicyArns ?? []);
  return arns.flatMap((arn) => {
    const document = policyNamed(snapshot, nameFromArn(arn))?.document;
    return document === undefined ? [] : [document as Policy];
  });
}

interface Tally {
  composites: number;
  overQuota: number;
  instancesWithAccess: number;
}

/** One pass of the engine, then every instance's access checked against what selects it. */
async function convergeAndCheck(
  engine: Engine,
  account: Awaited<ReturnType<typeof simAccountOf>>,
  manifests: readonly DesiredAccess[],
  instances: readonly { id: string; tags: Record<string, string> }[],
  maxPoliciesPerRole: number,
  tally: Tally,
): Promise<void> {
  const inForce = { inForce: manifests, protectedNames: new Set<string>(), unnamedInvalid: false };
  const first = await engine.run({ manifests: inForce, execute: true });
  const failures = [...first.results, ...first.composites].flatMap((result) => result.errors);
  const after = await observeAccount(account, manifests);
  for (const { id, tags } of instances) {
    const selecting = manifests.filter(
      (desired) => desired.mode === "enforce" && selects(desired.selector, id, tags),
    );
    const held = after.associations.get(id);
    const heldName = held === undefined ? undefined : nameFromArn(held.profileArn);
    if (selecting.length > maxPoliciesPerRole) {
      // Over the quota: left as it is (a profile of rolecall's it held stays), and said on every member.
      tally.overQuota += 1;
      expect(failures.join("\n")).toContain(`instance ${id} is selected by`);
      continue;
    }
    // Observe mode never writes: an instance only an observe-mode manifest's own profile gives access to keeps it.
    const observer = manifests.find(
      (desired) => desired.mode === "observe" && desired.instanceProfile.name === heldName,
    );
    if (selecting.length === 0 && observer !== undefined) continue;
    const expected = allowedBy(selecting.map((desired) => desired.policy.document as Policy));
    expect(allowedBy(effectivePolicies(after, id)), `instance ${id}`).toBe(expected);
    if (selecting.length > 0) tally.instancesWithAccess += 1;
    // A composite exactly when several manifests select it, and then exactly theirs.
    expect(heldName !== undefined && isCompositeName(heldName), `instance ${id} composite`).toBe(
      selecting.length > 1,
    );
    if (heldName !== undefined && selecting.length > 1) {
      tally.composites += 1;
      const members = [...(compositeMembersOf(profileNamed(after, heldName)?.tags)?.keys() ?? [])].sort();
      expect(members).toEqual(selecting.map((desired) => desired.manifest).sort());
    }
  }
  // No composite is left that no instance holds (one an over-quota instance kept is still held).
  const heldNames = new Set(
    [...after.associations.values()].map((association) => nameFromArn(association.profileArn)),
  );
  const composites = [...after.instanceProfiles.values()].filter((profile) => isCompositeName(profile.name));
  expect(composites.filter((profile) => !heldNames.has(profile.name)).map((profile) => profile.name)).toEqual(
    [],
  );
  // And the pass left nothing to do (observe-mode manifests only ever report).
  const second = await engine.run({ manifests: inForce, execute: false });
  const enforced = [...second.results, ...second.composites].filter((result) => result.mode === "enforce");
  const leftover = enforced.flatMap((result) =>
    [...result.plan.actions, ...result.plan.pruneActions].map(
      (action) => `${result.manifest}: ${action.kind}`,
    ),
  );
  expect(leftover).toEqual([]);
}

describe("composition properties", () => {
  it("after one pass (and after a change and another), effective access is exactly the union of the selecting enforce-mode manifests' grants", async () => {
    const tally: Tally = { composites: 0, overQuota: 0, instancesWithAccess: 0 };
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async ({ manifests, instances, later, maxPoliciesPerRole }) => {
        const account = await simAccountOf(
          snapshotOf({ instances: instances.map((item) => ({ ...item, state: "running" as const })) }),
        );
        const engine = new Engine(
          new AwsActionExecutor(account.iam, account.ec2),
          freshRead({ iam: account.iam, ec2: account.ec2, concurrency: 4 }, { iamPath, partition: "aws" }),
          // Mass removal allowed: the later manifests replace the first ones wholesale.
          { iamPath, defaultMode: "enforce", allowMassPrune: true, concurrency: 4, maxPoliciesPerRole },
        );
        await convergeAndCheck(engine, account, manifests, instances, maxPoliciesPerRole, tally);
        for (const { id, tags } of later.instances) account.sim.setInstanceTags(id, tags);
        await convergeAndCheck(engine, account, later.manifests, later.instances, maxPoliciesPerRole, tally);
      }),
      { numRuns: 150, seed: Number(process.env.SEED ?? 1) },
    );
    // Not vacuous: composites were made, the quota was hit, and most instances got access.
    expect(tally.composites).toBeGreaterThan(100);
    expect(tally.overQuota).toBeGreaterThan(10);
    expect(tally.instancesWithAccess).toBeGreaterThan(400);
  });
});
