import { spawn } from "node:child_process";
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetPolicyVersionCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesCommand,
  ListPoliciesCommand,
  ListPolicyTagsCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  type IAMClient,
  type ListRolesCommandOutput,
} from "@aws-sdk/client-iam";
import { AssociateIamInstanceProfileCommand } from "@aws-sdk/client-ec2";
import { ownershipTagKeys } from "../../src/desired/ownership.js";
import { decodePolicyDocument } from "../../src/plan/policy-equality.js";
import { cliPath, repoRoot } from "../support/cli.js";
import { tagMap, writeManifest } from "../support/drift-kit.js";
import { launchInstances, motoEnv, type Moto } from "../support/moto.js";

/**
 * What the reliability suites need around moto: a fleet of tag-selected manifests, a full read of IAM and EC2
 * straight from moto (never through the fault proxy), the checks of a converged state, foreign resources that
 * must come through untouched, and the CLI as a killable child process.
 */

export interface PolicyState {
  readonly name: string;
  readonly arn: string;
  readonly path: string;
  readonly tags: Record<string, string>;
  readonly versionIds: readonly string[];
  readonly defaultVersionId: string | undefined;
  readonly document: unknown;
}
export interface RoleState {
  readonly name: string;
  readonly path: string;
  readonly tags: Record<string, string>;
  readonly attachedPolicies: readonly string[];
  readonly inlinePolicies: readonly string[];
}
export interface ProfileState {
  readonly name: string;
  readonly path: string;
  readonly tags: Record<string, string>;
  readonly roles: readonly string[];
}
export interface AssociationState {
  readonly associationId: string;
  readonly instanceId: string;
  readonly profileName: string;
}
export interface MotoState {
  readonly policies: readonly PolicyState[];
  readonly roles: readonly RoleState[];
  readonly profiles: readonly ProfileState[];
  readonly associations: readonly AssociationState[];
  readonly instanceTags: Readonly<Record<string, Record<string, string>>>;
}

const lastSegment = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1);
const byName = <T extends { name: string }>(items: T[]) => items.sort((a, b) => (a.name < b.name ? -1 : 1));

/** Everything rolecall could have touched, read with plain SDK clients pointed at moto itself. */
export async function readMotoState(iam: IAMClient, ec2: EC2Client): Promise<MotoState> {
  const policies: PolicyState[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(
      new ListPoliciesCommand({ Scope: "Local", ...(marker ? { Marker: marker } : {}) }),
    );
    for (const policy of page.Policies ?? []) {
      const arn = policy.Arn ?? "";
      const [tags, versions] = await Promise.all([
        iam.send(new ListPolicyTagsCommand({ PolicyArn: arn })),
        iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn })),
      ]);
      const defaultVersionId = versions.Versions?.find(
        (version) => version.IsDefaultVersion === true,
      )?.VersionId;
      const document =
        defaultVersionId === undefined
          ? undefined
          : decodePolicyDocument(
              (await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: defaultVersionId })))
                .PolicyVersion?.Document,
            );
      policies.push({
        name: policy.PolicyName ?? lastSegment(arn),
        arn,
        path: policy.Path ?? "/",
        tags: tagMap(tags.Tags),
        versionIds: (versions.Versions ?? []).map((version) => version.VersionId ?? "").sort(),
        defaultVersionId,
        document,
      });
    }
    marker = page.IsTruncated === true ? page.Marker : undefined;
  } while (marker !== undefined);

  const roles: RoleState[] = [];
  marker = undefined;
  do {
    const page: ListRolesCommandOutput = await iam.send(
      new ListRolesCommand(marker ? { Marker: marker } : {}),
    );
    for (const role of page.Roles ?? []) {
      const name = role.RoleName ?? "";
      const [tags, attached, inline] = await Promise.all([
        iam.send(new ListRoleTagsCommand({ RoleName: name })),
        iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name })),
        iam.send(new ListRolePoliciesCommand({ RoleName: name })),
      ]);
      roles.push({
        name,
        path: role.Path ?? "/",
        tags: tagMap(tags.Tags),
        attachedPolicies: (attached.AttachedPolicies ?? []).map((policy) => policy.PolicyName ?? "").sort(),
        inlinePolicies: [...(inline.PolicyNames ?? [])].sort(),
      });
    }
    marker = page.IsTruncated === true ? page.Marker : undefined;
  } while (marker !== undefined);

  // moto ignores ListInstanceProfiles' paging and returns every profile, with its tags, on one page.
  const profiles: ProfileState[] = (
    (await iam.send(new ListInstanceProfilesCommand({}))).InstanceProfiles ?? []
  ).map((profile) => ({
    name: profile.InstanceProfileName ?? "",
    path: profile.Path ?? "/",
    tags: tagMap(profile.Tags),
    roles: (profile.Roles ?? []).map((role) => role.RoleName ?? "").sort(),
  }));

  const associations: AssociationState[] = [];
  let token: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand(token ? { NextToken: token } : {}),
    );
    for (const association of page.IamInstanceProfileAssociations ?? [])
      associations.push({
        associationId: association.AssociationId ?? "",
        instanceId: association.InstanceId ?? "",
        profileName: lastSegment(association.IamInstanceProfile?.Arn ?? ""),
      });
    token = page.NextToken === "" ? undefined : page.NextToken;
  } while (token !== undefined);

  const instanceTags: Record<string, Record<string, string>> = {};
  token = undefined;
  do {
    const page: DescribeInstancesCommandOutput = await ec2.send(
      new DescribeInstancesCommand({ MaxResults: 1000, ...(token ? { NextToken: token } : {}) }),
    );
    for (const reservation of page.Reservations ?? [])
      for (const instance of reservation.Instances ?? [])
        instanceTags[instance.InstanceId ?? ""] = tagMap(instance.Tags);
    token = page.NextToken === "" ? undefined : page.NextToken;
  } while (token !== undefined);

  return {
    policies: byName(policies),
    roles: byName(roles),
    profiles: byName(profiles),
    associations: associations.sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1)),
    instanceTags,
  };
}

// ---- the fleet ---------------------------------------------------------------------------------------------

export interface FleetManifest {
  readonly name: string;
  readonly instanceIds: readonly string[];
  readonly deletionPolicy: "delete" | "retain";
}

/**
 * `count` manifests named `<prefix>00`…, each selecting `perManifest` instances by the tag App=<name>, launched
 * in moto; deletion policies alternate (even: retain, odd: delete). Writes the manifest files into `directory`.
 */
export async function makeFleet(
  ec2: EC2Client,
  directory: string,
  options: { count: number; perManifest: number; prefix?: string; deletionPolicy?: "delete" | "retain" },
): Promise<FleetManifest[]> {
  const fleet: FleetManifest[] = [];
  for (let index = 0; index < options.count; index += 1) {
    const name = `${options.prefix ?? "m"}${String(index).padStart(2, "0")}`;
    const deletionPolicy = options.deletionPolicy ?? (index % 2 === 0 ? "retain" : "delete");
    const instanceIds = await launchInstances(ec2, { App: name }, options.perManifest);
    await writeManifest(directory, { name, matchTags: { App: name }, deletionPolicy });
    fleet.push({ name, instanceIds, deletionPolicy });
  }
  return fleet;
}

export const resourceName = (manifest: string) => `rolecall-${manifest}`;

// ---- foreign resources -------------------------------------------------------------------------------------

/** Another owner's role, policy and profile (untagged, one of them inside rolecall's IAM path) and instance. */
export interface Foreign {
  readonly roleName: string;
  readonly policyName: string;
  readonly profileName: string;
  /** An instance that holds the foreign profile and matches `selectedBy`'s selector (onConflict skip). */
  readonly instanceId: string;
  readonly selectedBy: string;
}

export async function createForeign(
  iam: IAMClient,
  ec2: EC2Client,
  selectedBy: { manifest: string; tags: Record<string, string> },
): Promise<Foreign> {
  const foreign = {
    roleName: "legacy-app-role",
    // Inside rolecall's path and named like its resources, but without its tags: still not rolecall's.
    policyName: "rolecall-legacy",
    profileName: "legacy-app-profile",
  };
  const trust = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
  const policy = await iam.send(
    new CreatePolicyCommand({
      PolicyName: foreign.policyName,
      Path: "/rolecall/",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::legacy-bucket/*" }],
      }),
    }),
  );
  await iam.send(new CreateRoleCommand({ RoleName: foreign.roleName, AssumeRolePolicyDocument: trust }));
  await iam.send(new AttachRolePolicyCommand({ RoleName: foreign.roleName, PolicyArn: policy.Policy?.Arn }));
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: foreign.profileName }));
  await iam.send(
    new AddRoleToInstanceProfileCommand({
      InstanceProfileName: foreign.profileName,
      RoleName: foreign.roleName,
    }),
  );
  const [instanceId = ""] = await launchInstances(ec2, selectedBy.tags);
  await ec2.send(
    new AssociateIamInstanceProfileCommand({
      InstanceId: instanceId,
      IamInstanceProfile: { Name: foreign.profileName },
    }),
  );
  return { ...foreign, instanceId, selectedBy: selectedBy.manifest };
}

/** The foreign part of a state, to compare before and after. */
export function foreignPart(state: MotoState, foreign: Foreign) {
  return {
    policy: state.policies.find((policy) => policy.name === foreign.policyName),
    role: state.roles.find((role) => role.name === foreign.roleName),
    profile: state.profiles.find((profile) => profile.name === foreign.profileName),
    association: state.associations.find((association) => association.instanceId === foreign.instanceId),
    instanceTags: state.instanceTags[foreign.instanceId],
  };
}

// ---- what converged means ----------------------------------------------------------------------------------

export interface Expectation {
  /** Manifests in force: each has exactly its chain and its instances. */
  readonly present: readonly FleetManifest[];
  /** Manifests removed with deletionPolicy delete: nothing of theirs is left, their instances hold nothing. */
  readonly deleted?: readonly FleetManifest[];
  /** Manifests removed with deletionPolicy retain: their chain stays, tagged orphaned, on their instances. */
  readonly retained?: readonly FleetManifest[];
  readonly foreign?: Foreign;
  /** Versions each policy may have (1 for a policy whose document never changed). */
  readonly maxPolicyVersions?: number;
}

/**
 * Everything wrong with `state` given `expected`, as readable lines (an empty list means converged): missing,
 * duplicated or untagged resources, broken chains, wrong associations, extra policy versions, and anything not
 * explained by a manifest or the foreign set (a leak).
 */
export function convergenceProblems(state: MotoState, expected: Expectation): string[] {
  const problems: string[] = [];
  const maxVersions = expected.maxPolicyVersions ?? 1;
  const owned = [...expected.present, ...(expected.retained ?? [])];
  const expectedNames = new Set(owned.map((manifest) => resourceName(manifest.name)));
  const foreign = expected.foreign;
  const foreignNames = new Set(
    foreign === undefined ? [] : [foreign.policyName, foreign.roleName, foreign.profileName],
  );

  const checkTags = (
    kind: string,
    name: string,
    tags: Record<string, string>,
    manifest: FleetManifest,
    orphaned: boolean,
  ) => {
    const want: Record<string, string> = {
      [ownershipTagKeys.managedBy]: "rolecall",
      [ownershipTagKeys.manifest]: manifest.name,
      [ownershipTagKeys.deletionPolicy]: manifest.deletionPolicy,
      ...(orphaned ? { [ownershipTagKeys.orphaned]: "true" } : {}),
    };
    const got = Object.fromEntries(Object.entries(tags).filter(([key]) => key.startsWith("rolecall.dev/")));
    if (JSON.stringify(Object.entries(got).sort()) !== JSON.stringify(Object.entries(want).sort()))
      problems.push(
        `${kind} ${name}: rolecall tags ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`,
      );
  };

  for (const [kind, list] of [
    ["policy", state.policies],
    ["role", state.roles],
    ["instance profile", state.profiles],
  ] as const) {
    const seen = new Map<string, number>();
    for (const item of list) seen.set(item.name.toLowerCase(), (seen.get(item.name.toLowerCase()) ?? 0) + 1);
    for (const [name, count] of seen) if (count > 1) problems.push(`${kind} ${name}: ${count} copies`);
    for (const item of list) {
      if (expectedNames.has(item.name) || foreignNames.has(item.name)) continue;
      const tagged = item.tags[ownershipTagKeys.managedBy] === "rolecall";
      problems.push(
        `${kind} ${item.name}: ${tagged ? "left behind (rolecall's tags)" : "unexpected, untagged (leaked?)"}`,
      );
    }
  }

  const associationOf = new Map(
    state.associations.map((association) => [association.instanceId, association]),
  );
  for (const manifest of owned) {
    const name = resourceName(manifest.name);
    const orphaned = (expected.retained ?? []).includes(manifest);
    const policy = state.policies.find((item) => item.name === name);
    const role = state.roles.find((item) => item.name === name);
    const profile = state.profiles.find((item) => item.name === name);
    if (policy === undefined) problems.push(`policy ${name}: missing`);
    else {
      checkTags("policy", name, policy.tags, manifest, orphaned);
      if (policy.versionIds.length > maxVersions)
        problems.push(
          `policy ${name}: ${policy.versionIds.length} versions (${policy.versionIds.join(",")}), at most ${maxVersions} expected`,
        );
      if (policy.path !== "/rolecall/") problems.push(`policy ${name}: path ${policy.path}`);
    }
    if (role === undefined) problems.push(`role ${name}: missing`);
    else {
      checkTags("role", name, role.tags, manifest, orphaned);
      if (JSON.stringify(role.attachedPolicies) !== JSON.stringify([name]))
        problems.push(
          `role ${name}: attached ${JSON.stringify(role.attachedPolicies)}, expected ["${name}"]`,
        );
      if (role.inlinePolicies.length > 0)
        problems.push(`role ${name}: inline policies ${role.inlinePolicies.join(",")}`);
    }
    if (profile === undefined) problems.push(`instance profile ${name}: missing`);
    else {
      checkTags("instance profile", name, profile.tags, manifest, orphaned);
      if (JSON.stringify(profile.roles) !== JSON.stringify([name]))
        problems.push(
          `instance profile ${name}: roles ${JSON.stringify(profile.roles)}, expected ["${name}"]`,
        );
    }
    for (const instanceId of manifest.instanceIds) {
      const held = associationOf.get(instanceId)?.profileName;
      if (held !== name)
        problems.push(
          `instance ${instanceId} (${manifest.name}): holds ${held ?? "nothing"}, expected ${name}`,
        );
    }
  }
  for (const manifest of expected.deleted ?? []) {
    for (const instanceId of manifest.instanceIds) {
      const held = associationOf.get(instanceId)?.profileName;
      if (held !== undefined)
        problems.push(`instance ${instanceId} (removed ${manifest.name}): still holds ${held}`);
    }
  }
  const explained = new Set([
    ...owned.flatMap((manifest) => manifest.instanceIds),
    ...(foreign === undefined ? [] : [foreign.instanceId]),
  ]);
  for (const association of state.associations)
    if (!explained.has(association.instanceId))
      problems.push(
        `instance ${association.instanceId}: unexpected association with ${association.profileName}`,
      );
  if (foreign !== undefined && associationOf.get(foreign.instanceId)?.profileName !== foreign.profileName)
    problems.push(
      `foreign instance ${foreign.instanceId}: holds ${associationOf.get(foreign.instanceId)?.profileName ?? "nothing"}, expected ${foreign.profileName}`,
    );
  return problems;
}

// ---- the CLI as a child process ----------------------------------------------------------------------------

export interface CliChild {
  readonly pid: number | undefined;
  kill(): void;
  /** Resolves when the process has exited, however. */
  readonly exited: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
}

/** Starts the built CLI against `endpoint` (moto or the fault proxy), killable at any moment. */
export function spawnCli(
  moto: Moto,
  endpoint: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): CliChild {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    env: { ...motoEnv(moto), AWS_ENDPOINT_URL: endpoint, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    child.once("close", (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
    exited,
  };
}

/** The JSON `apply -o json` prints (the parts these suites read). */
export interface ApplyJson {
  readonly manifests: readonly {
    name: string;
    status: string;
    errors: readonly string[];
    actions: readonly { kind: string; status: string; errorCode?: string }[];
  }[];
  readonly awsCalls: { total: number; mutating: number; byOperation: Record<string, number> };
}

export function parseApplyJson(stdout: string): ApplyJson {
  try {
    return JSON.parse(stdout) as ApplyJson;
  } catch {
    throw new Error(`apply -o json printed no JSON:\n${stdout.slice(0, 2000)}`);
  }
}
