import { diffAccess } from "../access/access-diff.js";
import { summariseAccess } from "../access/access-summary.js";
import { expandPolicy, type AccessGrant } from "../access/policy-grants.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey } from "../desired/iam-names.js";
import type { PassResult } from "../engine/engine.js";
import type { Action } from "../plan/action.js";

/** What plan text needs to name the access behind an instance profile. */
export interface InstanceAccessContext {
  /** Manifests in force, by name. */
  readonly manifests: ReadonlyMap<string, DesiredAccess>;
  /** Manifests in force by the (case-folded) name of their instance profile. */
  readonly byProfile: ReadonlyMap<string, DesiredAccess>;
  /** For each instance, the manifests in force whose plan reports it (the members of a composite it moves to). */
  readonly reportedOn: ReadonlyMap<string, readonly DesiredAccess[]>;
}

export function instanceAccessContext(
  pass: PassResult,
  manifests: readonly DesiredAccess[],
): InstanceAccessContext {
  const byName = new Map(manifests.map((desired) => [desired.manifest, desired]));
  const reportedOn = new Map<string, DesiredAccess[]>();
  for (const result of pass.results) {
    const desired = byName.get(result.manifest);
    if (desired === undefined || desired.mode !== "enforce") continue;
    for (const instance of result.plan.instances)
      reportedOn.set(instance.id, [...(reportedOn.get(instance.id) ?? []), desired]);
  }
  return {
    manifests: byName,
    byProfile: new Map(manifests.map((desired) => [iamNameKey(desired.instanceProfile.name), desired])),
    reportedOn,
  };
}

/** The manifests behind a profile: its own manifest, or the members of a composite; undefined when unknown. */
interface ProfileSource {
  readonly profile: string;
  readonly members: readonly DesiredAccess[] | undefined;
}

/**
 * One line naming the access an instance gains or loses by an association change, from the compiled grants of
 * the manifests behind each profile: `i-0abc gains read on my-bucket/in/ (via dev-read)`. Only the net change is
 * named: moving between two profiles that share a manifest gains and loses only what differs. Undefined for
 * actions that concern no instance.
 */
export function instanceAccessLines(action: Action, context: InstanceAccessContext): string[] | undefined {
  switch (action.kind) {
    case "associateInstanceProfile":
      // After the disassociation of a stopped instance's old profile (which names the loss): the net gain only.
      return describeMove(action.instanceId, heldSource(action, context), target(action, context), false);
    case "replaceInstanceProfileAssociation":
      return describeMove(action.instanceId, heldSource(action, context), target(action, context));
    case "disassociateInstanceProfile":
      return describeMove(action.instanceId, heldSource(action, context), undefined);
    default:
      return undefined;
  }
}

function target(
  action: Action & { readonly instanceId: string; readonly profileName: string },
  context: InstanceAccessContext,
): ProfileSource {
  const own = context.byProfile.get(iamNameKey(action.profileName));
  if (own !== undefined) return { profile: action.profileName, members: [own] };
  const members = context.reportedOn.get(action.instanceId);
  return {
    profile: action.profileName,
    members: members !== undefined && members.length > 1 ? members : undefined,
  };
}

/**
 * The profile the instance holds now, as an association reason records it ("NAME", or "NAME (id, deleted)"). A
 * removal's disassociation carries the removal's reason instead (actual "present"): the owner that is going away
 * is named then, since its manifest is no longer there to say what it granted.
 */
function heldSource(action: Action, context: InstanceAccessContext): ProfileSource | undefined {
  const removal = action.kind === "disassociateInstanceProfile" && !context.manifests.has(action.manifest);
  if (removal)
    return {
      profile: `the profile of ${action.manifest}, which no manifest wants any more`,
      members: undefined,
    };
  const actual = action.reason.field === "association" ? action.reason.actual : "";
  const held = /^([\w+=,.@-]+)(?: \(|$)/.exec(actual)?.[1];
  if (held === undefined) return undefined;
  const own = context.byProfile.get(iamNameKey(held));
  return { profile: held, members: own === undefined ? undefined : [own] };
}

function describeMove(
  instanceId: string,
  from: ProfileSource | undefined,
  to: ProfileSource | undefined,
  namesLosses = true,
): string[] {
  const fromGrants = grantsOf(from);
  const toGrants = grantsOf(to);
  const gains =
    to === undefined
      ? []
      : to.members === undefined
        ? [`${instanceId} gains the access of instance profile ${to.profile}`]
        : attributed(instanceId, "gains", to.members, fromGrants);
  const loses =
    from === undefined || !namesLosses
      ? []
      : from.members === undefined
        ? [`${instanceId} loses the access of ${from.profile}`]
        : attributed(instanceId, "loses", from.members, toGrants);
  if (gains.length === 0 && loses.length === 0)
    return [`${instanceId} keeps the same access (both profiles grant the same)`];
  return [...gains, ...loses];
}

/** Per member manifest, the terms it brings that the other side does not have, in the manifest's words. */
function attributed(
  instanceId: string,
  verb: "gains" | "loses",
  members: readonly DesiredAccess[],
  otherSide: readonly AccessGrant[] | undefined,
): string[] {
  const lines: string[] = [];
  for (const member of members) {
    const own = expandPolicy(member.policy.document).grants;
    const net = otherSide === undefined ? own : diffAccess(otherSide, own).added;
    const summary = summariseAccess(net);
    if (summary.length > 0)
      lines.push(`${instanceId} ${verb} ${summary.join("; ")} (via ${member.manifest})`);
  }
  return lines;
}

/** The union of the members' terms; undefined when the source or its members are unknown. */
function grantsOf(source: ProfileSource | undefined): AccessGrant[] | undefined {
  if (source?.members === undefined) return undefined;
  return source.members.flatMap((member) => expandPolicy(member.policy.document).grants);
}
