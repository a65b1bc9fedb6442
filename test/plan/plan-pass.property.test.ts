import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DesiredAccess } from "../../src/desired/desired-access.js";
import { iamNameKey } from "../../src/desired/iam-names.js";
import {
  manifestFromPolicyDescription,
  ownershipTagKeys,
  ownershipTags,
  policyDescription,
  readOwnership,
  type Tags,
} from "../../src/desired/ownership.js";
import { ec2TrustPolicy } from "../../src/desired/policy-document.js";
import { executePlans } from "../../src/engine/execute-plan.js";
import type { InstanceAccess, InstanceSelector } from "../../src/manifest/instance-access.js";
import { SnapshotWriter } from "../../src/engine/snapshot-writer.js";
import {
  nameFromArn,
  type InstanceState,
  type ObservedAssociation,
  type ObservedInstance,
  type ObservedInstanceProfile,
  type ObservedPolicy,
  type ObservedRole,
  type Snapshot,
} from "../../src/observed/snapshot.js";
import { isDestructive, type Action } from "../../src/plan/action.js";
import { planPass, type PassInput, type PassPlan } from "../../src/plan/plan-pass.js";
import { CreatedInPass } from "../../src/aws/actions/created-in-pass.js";
import { AwsActionExecutor } from "../../src/aws/aws-action-executor.js";
import { AwsApiError } from "../../src/aws/aws-error.js";
import { observeAccount, simAccountOf, truthOf } from "../support/sim-account.js";
import { desiredFor, iamPath, policyArn, profileArn, roleArn } from "../support/desired-fixtures.js";
import { snapshotOf } from "../support/snapshot-fixtures.js";

/*
 * Random manifest sets (compiled with compileDesired) against random accounts. An account is generated as the whole
 * truth (every tag known), then observed as readFullSnapshot would see it (policy tags only where a description
 * marker cannot settle ownership). For convergence, the account is built in the simulated AWS (src/aws/sim), read
 * with the real snapshot reader, and plans run through the engine's executePlans and the real AWS executor; the next
 * pass is planned from a fresh read of the simulated account, which refuses what AWS refuses.
 */

/** Manifests that may be in force, owners that are not (removed manifests), and someone else's names. */
const manifestPool = ["a", "b", "c"] as const;
const removedPool = ["x", "y"] as const;
const resourcePool = [...manifestPool, ...removedPool, "z"] as const;
// Instance IDs as EC2 spells them (the simulated account checks them).
const instancePool = ["i-00000001", "i-00000002", "i-00000003", "i-00000004", "i-00000005"] as const;
const handMadeProfile = "HandMadeProfile";
const awsManagedPolicy = "arn:aws:iam::aws:policy/ReadOnlyAccess";

// ---------------------------------------------------------------- manifests

const specArbitrary = (name: string): fc.Arbitrary<DesiredAccess> =>
  fc
    .record({
      selector: fc.oneof(
        fc.constantFrom(...manifestPool).map((app): InstanceSelector => ({ matchTags: { app } })),
        fc
          .subarray([...instancePool], { minLength: 1 })
          .map((ids): InstanceSelector => ({ instanceIds: ids })),
        fc.constant<InstanceSelector>({ matchTags: { app: name }, instanceIds: ["i-00000005"] }),
      ),
      grants: fc.constantFrom<InstanceAccess["spec"]["grants"]>(
        [{ bucket: `${name}-bucket`, access: "read" }],
        [{ bucket: "shared-bucket", access: "read-write", prefixes: [`${name}/`] }],
      ),
      adopt: fc.boolean(),
      onConflict: fc.constantFrom("skip" as const, "replace" as const),
      deletionPolicy: fc.constantFrom("delete" as const, "retain" as const),
    })
    .map(({ selector, ...spec }) => desiredFor(name, { ...spec, instanceSelector: selector }));

const manifestsArbitrary: fc.Arbitrary<DesiredAccess[]> = fc
  .subarray([...manifestPool])
  .chain((names) => (names.length === 0 ? fc.constant([]) : fc.tuple(...names.map(specArbitrary))));

// ---------------------------------------------------------------- the live account (the whole truth)

const ownerNames = [...manifestPool, ...removedPool];
const tagsArbitrary: fc.Arbitrary<Tags> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...ownerNames), fc.constantFrom("delete" as const, "retain" as const))
      .map(([owner, policy]) => ownershipTags(owner, policy)),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...ownerNames)
      .map((owner) => ({ ...ownershipTags(owner, "retain"), [ownershipTagKeys.orphaned]: "true" })),
  },
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.constant({ team: "platform" }) },
);

const otherDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
};
const wrongTrust = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
};

interface AccountDraft {
  readonly policies: {
    name: string;
    path: string;
    tags: Tags;
    marker: string | undefined;
    rightDocument: boolean;
    versions: number;
    defaultIndex: number;
  }[];
  readonly roles: { name: string; tags: Tags; attached: string[]; inline: boolean; rightTrust: boolean }[];
  readonly profiles: { name: string; tags: Tags; role: string | undefined }[];
  readonly instances: ObservedInstance[];
  readonly associations: { instance: string; profile: string; associating: boolean }[];
}

const instanceStates: InstanceState[] = [
  "running",
  "stopped",
  "pending",
  "stopping",
  "terminated",
  "shutting-down",
];

const accountArbitrary: fc.Arbitrary<AccountDraft> = fc
  .record({
    policies: fc.subarray([...resourcePool]).chain((names) =>
      fc.tuple(
        ...names.map((base) =>
          fc.record({
            name: fc.constant(`rolecall-${base}`),
            path: fc.constantFrom(iamPath, "/"),
            tags: tagsArbitrary,
            marker: fc.constantFrom<string | undefined>(base, undefined, "x", "a"),
            rightDocument: fc.boolean(),
            versions: fc.integer({ min: 1, max: 5 }),
            defaultIndex: fc.nat(4),
          }),
        ),
      ),
    ),
    roles: fc.subarray([...resourcePool]).chain((names) =>
      fc.tuple(
        ...names.map((base) =>
          fc.record({
            name: fc.constant(`rolecall-${base}`),
            tags: tagsArbitrary,
            attached: fc.subarray([...resourcePool.map((other) => `rolecall-${other}`), awsManagedPolicy], {
              maxLength: 2,
            }),
            inline: fc.boolean(),
            rightTrust: fc.boolean(),
          }),
        ),
      ),
    ),
    profiles: fc.subarray([...resourcePool, "hand"]).chain((names) =>
      fc.tuple(
        ...names.map((base) =>
          fc.record({
            name: fc.constant(base === "hand" ? handMadeProfile : `rolecall-${base}`),
            tags: base === "hand" ? fc.constant({}) : tagsArbitrary,
            role: fc.option(fc.constantFrom(...resourcePool.map((other) => `rolecall-${other}`)), {
              nil: undefined,
            }),
          }),
        ),
      ),
    ),
    instances: fc.tuple(
      ...instancePool.map((id) =>
        fc.record({
          id: fc.constant(id),
          state: fc.constantFrom(...instanceStates),
          tags: fc.oneof(
            fc.constant({}),
            fc.constantFrom(...manifestPool).map((app) => ({ app })),
          ),
        }),
      ),
    ),
    associations: fc.subarray([...instancePool]).chain((ids) =>
      fc.tuple(
        ...ids.map((instance) =>
          fc.record({
            instance: fc.constant(instance),
            profile: fc.constantFrom(handMadeProfile, ...resourcePool.map((base) => `rolecall-${base}`)),
            associating: fc.boolean(),
          }),
        ),
      ),
    ),
  })
  .map((draft) => draft as AccountDraft);

/** The truth: a consistent account (attachments name existing policies, associations existing profiles). */
function buildTruth(draft: AccountDraft, manifests: readonly DesiredAccess[]): Snapshot {
  const wanted = (name: string) => manifests.find((desired) => desired.policy.name === name);
  const policies: ObservedPolicy[] = draft.policies.map((draftPolicy) => {
    const versions = Array.from({ length: draftPolicy.versions }, (_, index) => ({
      id: `v${index + 1}`,
      isDefault: index === Math.min(draftPolicy.defaultIndex, draftPolicy.versions - 1),
      createdAt: 100 + index,
    }));
    const want = wanted(draftPolicy.name);
    return {
      name: draftPolicy.name,
      arn: policyArn(draftPolicy.name, draftPolicy.path),
      path: draftPolicy.path,
      description: draftPolicy.marker === undefined ? "hand made" : policyDescription(draftPolicy.marker),
      document: draftPolicy.rightDocument && want !== undefined ? want.policy.document : otherDocument,
      defaultVersionId: versions.find((version) => version.isDefault)!.id,
      versions,
      tags: draftPolicy.tags,
    };
  });
  const arnOf = new Map(policies.map((policy) => [policy.name, policy.arn]));
  const roles: ObservedRole[] = draft.roles.map((draftRole) => ({
    name: draftRole.name,
    arn: roleArn(draftRole.name),
    path: iamPath,
    trustPolicy: draftRole.rightTrust ? ec2TrustPolicy() : wrongTrust,
    attachedPolicyArns: draftRole.attached.flatMap((name) =>
      name === awsManagedPolicy ? [name] : arnOf.has(name) ? [arnOf.get(name)!] : [],
    ),
    inlinePolicyNames: draftRole.inline ? ["inline"] : [],
    tags: draftRole.tags,
  }));
  const roleNames = new Set(roles.map((role) => role.name));
  const profiles: ObservedInstanceProfile[] = draft.profiles.map((draftProfile) => ({
    name: draftProfile.name,
    arn: profileArn(draftProfile.name, draftProfile.name === handMadeProfile ? "/" : iamPath),
    path: draftProfile.name === handMadeProfile ? "/" : iamPath,
    roleNames: draftProfile.role !== undefined && roleNames.has(draftProfile.role) ? [draftProfile.role] : [],
    tags: draftProfile.tags,
  }));
  const profileArns = new Map(profiles.map((profile) => [profile.name, profile.arn]));
  const associations: ObservedAssociation[] = draft.associations.flatMap((draftAssociation) => {
    const arn = profileArns.get(draftAssociation.profile);
    const holder = draft.instances.find((item) => item.id === draftAssociation.instance);
    if (arn === undefined || holder === undefined || holder.state === "terminated") return [];
    return [
      {
        associationId: `iip-assoc-${draftAssociation.instance}`,
        instanceId: draftAssociation.instance,
        profileArn: arn,
        state: draftAssociation.associating ? "associating" : "associated",
      },
    ];
  });
  return snapshotOf({ policies, roles, profiles, instances: draft.instances, associations });
}

/**
 * What readFullSnapshot would see of the truth: policy tags only where the description marker cannot settle
 * ownership (the same rule as its needsTags).
 */
function observe(truth: Snapshot, manifests: readonly DesiredAccess[]): Snapshot {
  const wantedBy = new Map(manifests.map((desired) => [iamNameKey(desired.policy.name), desired.manifest]));
  const attachedToManaged = new Set(
    [...truth.roles.values()]
      .filter((role) => readOwnership(role.tags).managed)
      .flatMap((role) => role.attachedPolicyArns),
  );
  const needsTags = (policy: ObservedPolicy) => {
    const marker = manifestFromPolicyDescription(policy.description);
    const wanter = wantedBy.get(iamNameKey(policy.name));
    if (wanter !== undefined) return marker !== wanter;
    if (marker !== undefined) return true;
    return policy.path.startsWith(iamPath) || attachedToManaged.has(policy.arn);
  };
  const policies = new Map(
    [...truth.policies].map(([key, policy]) => [
      key,
      needsTags(policy) ? policy : { ...policy, tags: undefined },
    ]),
  );
  return { ...truth, policies };
}

const inputOf = (manifests: readonly DesiredAccess[], allowMassPrune: boolean): PassInput => ({
  inForce: manifests,
  protectedNames: new Set(),
  unnamedInvalid: false,
  allowMassPrune,
  defaultMode: "enforce",
});

// ---------------------------------------------------------------- what an action touches

/** The tags, in the truth, of the resource a destructive action changes; undefined if it is not there. */
function targetTags(action: Action, truth: Snapshot): { label: string; tags: Tags | undefined } {
  const byArn = (arn: string) => [...truth.policies.values()].find((policy) => policy.arn === arn);
  switch (action.kind) {
    case "deletePolicy":
    case "deletePolicyVersion":
      return { label: `policy ${action.policyArn}`, tags: byArn(action.policyArn)?.tags };
    case "deleteRole":
    case "deleteRolePolicy":
    case "detachRolePolicy":
      return { label: `role ${action.roleName}`, tags: truth.roles.get(iamNameKey(action.roleName))?.tags };
    case "removeRoleFromInstanceProfile":
    case "deleteInstanceProfile":
      return {
        label: `profile ${action.profileName}`,
        tags: truth.instanceProfiles.get(iamNameKey(action.profileName))?.tags,
      };
    case "disassociateInstanceProfile": {
      const held = truth.associations.get(action.instanceId);
      const name = held === undefined ? "" : nameFromArn(held.profileArn);
      return {
        label: `profile ${name} on ${action.instanceId}`,
        tags: truth.instanceProfiles.get(iamNameKey(name))?.tags,
      };
    }
    default:
      return { label: action.kind, tags: undefined };
  }
}

/** A tag action on the same resource as `action`, earlier in `list`, writing `manifest`'s ownership. */
function retaggedBefore(list: readonly Action[], index: number, action: Action, manifest: string): boolean {
  return list.slice(0, index).some((earlier) => {
    const owns = "tags" in earlier && earlier.tags[ownershipTagKeys.manifest] === manifest;
    if (!owns) return false;
    if (earlier.kind === "tagRole" && "roleName" in action)
      return iamNameKey(earlier.roleName) === iamNameKey(action.roleName);
    if (earlier.kind === "tagInstanceProfile" && "profileName" in action)
      return iamNameKey(earlier.profileName) === iamNameKey(action.profileName);
    if (earlier.kind === "tagPolicy" && "policyArn" in action) return earlier.policyArn === action.policyArn;
    return false;
  });
}

/** Every destructive action whose target's tags (in the truth) do not make it fair game, with why. */
function unsafeDestructiveActions(
  plan: PassPlan,
  truth: Snapshot,
  manifests: readonly DesiredAccess[],
): string[] {
  const inForce = new Map(manifests.map((desired) => [desired.manifest, desired]));
  const problems: string[] = [];
  for (const manifestPlan of [...plan.manifests.values(), ...plan.composites.values()]) {
    const desired = inForce.get(manifestPlan.manifest);
    const lists: [string, Action[]][] = [
      ["actions", manifestPlan.actions],
      ["pruneActions", manifestPlan.pruneActions],
    ];
    for (const [listName, list] of lists) {
      list.forEach((action, index) => {
        if (!isDestructive(action)) return;
        const target = targetTags(action, truth);
        const ownership = readOwnership(target.tags ?? {});
        const owner = ownership.managed ? ownership.manifest : undefined;
        if (target.tags !== undefined && ownership.managed && owner === manifestPlan.manifest) return;
        // Removal may also touch other rolecall resources (a leftover profile holding the role it deletes).
        if (listName === "pruneActions" && ownership.managed) return;
        // A policy whose tags the snapshot did not hold: the executor reads them first (expectOwner).
        if ("expectOwner" in action && action.expectOwner.manifest === manifestPlan.manifest) return;
        // A composite replaces a foreign profile only when every member says onConflict: replace.
        const members = "members" in manifestPlan ? (manifestPlan.members as readonly string[]) : undefined;
        const replaces =
          members === undefined
            ? desired?.onConflict === "replace"
            : members.every((member) => inForce.get(member)?.onConflict === "replace");
        if (listName === "actions" && (desired !== undefined || members !== undefined)) {
          // Taken over in this same plan (adopt, or handed over by a manifest that no longer names it): tagged first.
          const takeable = ownership.managed || desired?.adopt === true;
          if (takeable && retaggedBefore(list, index, action, manifestPlan.manifest)) return;
          // Replacing an instance's profile on a stopped instance: disassociate, then associate ours.
          if (
            action.kind === "disassociateInstanceProfile" &&
            (replaces || ownership.managed) &&
            list
              .slice(index + 1)
              .some(
                (later) =>
                  later.kind === "associateInstanceProfile" && later.instanceId === action.instanceId,
              )
          )
            return;
        }
        problems.push(
          `${manifestPlan.manifest}.${listName}[${index}] ${action.kind} on ${target.label} whose tags are ${JSON.stringify(target.tags ?? null)}`,
        );
      });
    }
  }
  return problems;
}

const allActions = (plan: PassPlan) =>
  [...plan.manifests.values(), ...plan.composites.values()].flatMap((manifestPlan) => [
    ...manifestPlan.actions,
    ...manifestPlan.pruneActions,
  ]);

// ---------------------------------------------------------------- known bugs, reported and not yet fixed

/*
 * Each predicate recognises one planPass bug found by this property and reported (src/diff and src/plan belong to
 * another engineer). Scenarios showing one are counted, not checked; delete the predicate once the bug is fixed.
 */

const key = iamNameKey;

/** Bugs that show as work left for a second pass. */
function knownSecondPassBugs(
  first: PassPlan,
  second: PassPlan,
  initial: Snapshot,
  after: Snapshot,
): string[] {
  const bugs: string[] = [];
  // D (instance-assignment.ts): instance decisions go by the owner of the profile an instance holds as the pass
  // found it. When this pass hands that profile over (or adopts it), the instance is disassociated, or replaced
  // by another manifest that was skipping it as foreign, only on the next pass.
  for (const plan of [...second.manifests.values(), ...second.composites.values()]) {
    for (const action of plan.actions) {
      if (!("instanceId" in action)) continue;
      const ownerOf = (snapshot: Snapshot) => {
        const held = snapshot.associations.get(action.instanceId);
        const profile = held && snapshot.instanceProfiles.get(key(nameFromArn(held.profileArn)));
        return profile?.tags === undefined ? undefined : readOwnership(profile.tags).manifest;
      };
      if (ownerOf(initial) !== ownerOf(after)) bugs.push("D:instanceDecidedOnStaleProfileOwner");
    }
  }
  // E (prune.ts): removal held back by a NotOwned issue (the policy is attached to, or the role held by, a resource
  // rolecall does not own) is not re-decided after this same pass adopts that resource and cleans it: the next
  // pass removes.
  const heldBack = [...first.manifests.values()].some((plan) =>
    plan.issues.some((issue) => issue.code === "NotOwned" && issue.message.includes("left in place")),
  );
  const onlyRemovals = [...second.manifests.values(), ...second.composites.values()].every(
    (plan) => plan.actions.length === 0,
  );
  if (heldBack && onlyRemovals && allActions(second).length > 0) bugs.push("E:removalAfterAdoptNextPass");
  return [...new Set(bugs)];
}

// ---------------------------------------------------------------- the properties

const scenario = fc.record({
  manifests: manifestsArbitrary,
  draft: accountArbitrary,
  allowMassPrune: fc.boolean(),
});

describe("planPass properties", () => {
  it("never plans a destructive action on a resource whose tags say rolecall does not own it (for that manifest)", () => {
    fc.assert(
      fc.property(scenario, ({ manifests, draft, allowMassPrune }) => {
        const truth = buildTruth(draft, manifests);
        const plan = planPass(observe(truth, manifests), inputOf(manifests, allowMassPrune));
        expect(unsafeDestructiveActions(plan, truth, manifests)).toEqual([]);
      }),
      { numRuns: 400, seed: Number(process.env.SEED ?? 1) },
    );
  });

  it("applying a plan then planning again yields no action (or the first pass was refused on ownership)", async () => {
    const tally = { converged: 0, refused: 0, withActions: 0, knownBug: {} as Record<string, number> };
    const known = (bugs: string[]) => {
      for (const bug of bugs) tally.knownBug[bug] = (tally.knownBug[bug] ?? 0) + 1;
      return bugs.length > 0;
    };
    await fc.assert(
      fc.asyncProperty(scenario, async ({ manifests, draft, allowMassPrune }) => {
        const initial = buildTruth(draft, manifests);
        const account = await simAccountOf(initial);
        const input = inputOf(manifests, allowMassPrune);
        const observed = await observeAccount(account, manifests);
        const first = planPass(observed, input);
        if (allActions(first).length > 0) tally.withActions += 1;

        const executor = new AwsActionExecutor(account.iam, account.ec2);
        const state = new SnapshotWriter(observed);
        const outcomes = await executePlans([...first.manifests.values()], executor, state, 4, {}, [
          ...first.composites.values(),
        ]);
        const results = [...outcomes.values()].flat();
        // Skipped actions follow a failure; every failure must be a safety stop: an ownership refusal, or a removal
        // held back because the step it depends on (another manifest's detach or move) did not happen.
        const awsRefusals = results
          .filter(
            (outcome) =>
              outcome.status === "failed" &&
              outcome.errorCode !== "NotOwned" &&
              outcome.errorCode !== "InUse",
          )
          .map((outcome) => `${outcome.description}: ${outcome.error ?? ""}`);
        if (awsRefusals.length > 0 && process.env.DEBUG_PROP === "1")
          console.log(
            JSON.stringify(
              {
                first: [...first.manifests.values(), ...first.composites.values()].map((p) => ({
                  m: p.manifest,
                  a: p.actions.map((x) => x.kind + " " + x.reason.resource),
                  issues: p.issues.map((i) => i.code),
                })),
                results: results.map((r) => r.description + " " + r.status + " " + (r.errorCode ?? "")),
              },
              null,
              1,
            ),
          );
        expect(awsRefusals).toEqual([]);
        if (results.some((outcome) => outcome.status === "failed")) {
          tally.refused += 1;
          return;
        }

        const second = planPass(await observeAccount(account, manifests), input);
        if (known(knownSecondPassBugs(first, second, initial, await truthOf(account)))) return;
        const leftover = allActions(second).map(
          (action) => `${action.manifest}: ${action.kind} (${action.reason.resource} ${action.reason.field})`,
        );
        expect(leftover).toEqual([]);
        tally.converged += 1;
      }),
      { numRuns: 400, seed: Number(process.env.SEED ?? 1) },
    );
    // Not vacuous: most scenarios had work to do, most of those converged, and the known bugs stay exceptions.
    expect(tally.withActions).toBeGreaterThan(200);
    expect(tally.converged).toBeGreaterThan(200);
    expect(tally.converged).toBeGreaterThan(tally.refused);
    expect(Object.values(tally.knownBug).reduce((sum, count) => sum + count, 0)).toBeLessThan(100);
  });

  it("the simulated account refuses what AWS refuses (so convergence above means something)", async () => {
    const a = desiredFor("a");
    const account = await simAccountOf(
      buildTruth(
        {
          policies: [
            {
              name: a.policy.name,
              path: iamPath,
              tags: a.tags,
              marker: "a",
              rightDocument: true,
              versions: 5,
              defaultIndex: 0,
            },
          ],
          roles: [
            { name: a.role.name, tags: a.tags, attached: [a.policy.name], inline: false, rightTrust: true },
          ],
          profiles: [{ name: a.instanceProfile.name, tags: a.tags, role: a.role.name }],
          instances: [],
          associations: [],
        },
        [a],
      ),
    );
    const executor = new AwsActionExecutor(account.iam, account.ec2);
    const state = await observeAccount(account, [a]);
    const reason = { resource: "x", field: "y", desired: "", actual: "" };
    const attempts: Action[] = [
      { kind: "deletePolicy", manifest: "a", reason, policyArn: policyArn(a.policy.name) },
      { kind: "deleteRole", manifest: "a", reason, roleName: a.role.name },
      { kind: "deleteInstanceProfile", manifest: "a", reason, profileName: a.instanceProfile.name },
      {
        kind: "createPolicyVersion",
        manifest: "a",
        reason,
        policyName: a.policy.name,
        policyArn: policyArn(a.policy.name),
        document: a.policy.document,
      },
    ];
    for (const action of attempts)
      await expect(executor.execute(action, state, new CreatedInPass())).rejects.toBeInstanceOf(AwsApiError);
  });
});
