// plan's text and JSON in access terms, on actions built by hand (the moto test runs the real pass).
import { describe, expect, it } from "vitest";
import { actionJson, renderPlanText } from "../../src/commands/render.js";
import { compileDesired, type DesiredAccess } from "../../src/desired/desired-access.js";
import { ec2TrustPolicy } from "../../src/desired/policy-document.js";
import { compileS3Policy } from "../../src/desired/s3-policy.js";
import type { PassResult } from "../../src/engine/engine.js";
import type { Grant } from "../../src/manifest/instance-access.js";
import type { Action } from "../../src/plan/action.js";
import { policiesEqual } from "../../src/plan/policy-equality.js";

function manifest(name: string, grants: Grant[], listAllBuckets = false): DesiredAccess {
  return compileDesired(
    {
      apiVersion: "rolecall.dev/v1alpha1",
      kind: "InstanceAccess",
      metadata: { name },
      spec: { instanceSelector: { matchTags: { Team: name } }, grants, listAllBuckets },
    },
    { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" },
  );
}

/** A pass with one manifest's actions; the instances are what the plan reports on the manifest. */
function passOf(name: string, actions: Action[], instances: string[] = []): PassResult {
  return {
    plan: { pruneSuspended: undefined, composites: new Map() },
    results: [
      {
        manifest: name,
        mode: "enforce",
        status: "pending",
        errors: [],
        warnings: [],
        plan: {
          actions,
          pruneActions: [],
          instances: instances.map((id) => ({ id, state: "running", association: "pending" })),
        },
      },
    ],
    composites: [],
  } as unknown as PassResult;
}

const devRead = manifest("dev-read", [{ bucket: "my-bucket", access: "read-write", prefixes: ["in/"] }]);
const live = compileS3Policy([{ bucket: "my-bucket", access: "write", prefixes: ["in/"] }], false, "aws");
const reason = (field: string, actual: string, desired: string, resource = "policy/rolecall-dev-read") => ({
  resource,
  field,
  desired,
  actual,
});

const newVersion: Action = {
  kind: "createPolicyVersion",
  manifest: "dev-read",
  // What the planner writes: canonical JSON, bounded; plan text must not print it.
  reason: reason(
    "document",
    JSON.stringify(live).toLowerCase(),
    JSON.stringify(devRead.policy.document).toLowerCase(),
  ),
  policyName: "rolecall-dev-read",
  policyArn: "arn:aws:iam::123456789012:policy/rolecall/rolecall-dev-read",
  document: devRead.policy.document,
  liveDocument: live,
};

describe("plan text in access terms", () => {
  it("a new policy version: the actions gained and lost per resource, and no JSON", () => {
    const text = renderPlanText(passOf("dev-read", [newVersion]), [], [devRead]);
    expect(text.split("\n")).toEqual([
      "dev-read (enforce): 1 change(s)",
      "  + set new default version of policy rolecall-dev-read",
      "      policy/rolecall-dev-read document: the live default version → the compiled document",
      "        + s3:GetBucketLocation on arn:aws:s3:::my-bucket",
      '        + s3:ListBucket on arn:aws:s3:::my-bucket when s3:prefix StringLike "in/" or "in/*"',
      "        + s3:DeleteObject, s3:GetObject, s3:GetObjectVersion on arn:aws:s3:::my-bucket/in/*",
    ]);
  });

  it("a drifted live document shows what the drift added (-, to be taken away) and took away (+)", () => {
    const drifted = {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "s3:*", Resource: "*" },
        { Effect: "Deny", Action: "s3:GetObject", Resource: "arn:aws:s3:::my-bucket/in/*" },
      ],
    };
    const text = renderPlanText(passOf("dev-read", [{ ...newVersion, liveDocument: drifted }]), []);
    const lines = text.split("\n");
    expect(lines).toContain("        - s3:* on *");
    expect(lines).toContain("        - Deny s3:GetObject on arn:aws:s3:::my-bucket/in/*");
    expect(lines).toContain(
      "        + s3:AbortMultipartUpload, s3:DeleteObject, s3:GetObject, s3:GetObjectVersion, s3:ListMultipartUploadParts, s3:PutObject on arn:aws:s3:::my-bucket/in/*",
    );
  });

  it("an unreadable live document: says so, and lists what the new one allows", () => {
    const { liveDocument: _live, ...unread } = newVersion;
    const text = renderPlanText(passOf("dev-read", [unread]), []);
    expect(text).toContain("        the live default version could not be read; the new document allows:\n");
    expect(text).toMatch(/^ {8}\+ s3:\S.*s3:PutObject on arn:aws:s3:::my-bucket\/in\/\*$/m);
    expect(text).not.toMatch(/^ {8}-/m);
  });

  it("a new policy lists what it allows", () => {
    const create: Action = {
      kind: "createPolicy",
      manifest: "dev-read",
      reason: reason("exists", "absent", "present"),
      policyName: "rolecall-dev-read",
      path: "/rolecall/",
      description: "",
      document: devRead.policy.document,
      tags: {},
    };
    const text = renderPlanText(passOf("dev-read", [create]), []);
    expect(text).toContain("      policy/rolecall-dev-read exists: absent → present\n");
    expect(text).toContain(
      "        + s3:AbortMultipartUpload, s3:DeleteObject, s3:GetObject, s3:GetObjectVersion, s3:ListMultipartUploadParts, s3:PutObject on arn:aws:s3:::my-bucket/in/*",
    );
    expect(text).not.toMatch(/^ {8}-/m);
  });

  it("an instance associated: it gains the manifest's access, in the manifest's words", () => {
    const associate: Action = {
      kind: "associateInstanceProfile",
      manifest: "dev-read",
      reason: reason("association", "(none)", "rolecall-dev-read", "instance/i-0abc"),
      instanceId: "i-0abc",
      profileName: "rolecall-dev-read",
    };
    const text = renderPlanText(passOf("dev-read", [associate], ["i-0abc"]), [], [devRead]);
    expect(text).toContain("      instance/i-0abc association: (none) → rolecall-dev-read\n");
    expect(text).toContain("        i-0abc gains read-write on my-bucket/in/ (via dev-read)");
  });

  it("an instance moving between manifests gains and loses only what differs", () => {
    const reports = manifest(
      "reports",
      [
        { bucket: "my-bucket", access: "read-write", prefixes: ["in/"] },
        { bucket: "reports", access: "read" },
      ],
      true,
    );
    const replace: Action = {
      kind: "replaceInstanceProfileAssociation",
      manifest: "reports",
      reason: reason("association", "rolecall-dev-read", "rolecall-reports", "instance/i-0abc"),
      instanceId: "i-0abc",
      associationId: "iip-assoc-1",
      profileName: "rolecall-reports",
    };
    const text = renderPlanText(passOf("reports", [replace], ["i-0abc"]), [], [devRead, reports]);
    expect(text.split("\n").at(-1)).toBe(
      "        i-0abc gains read on reports; list all buckets (via reports)",
    );
    expect(text).not.toContain("loses");
  });

  it("an instance released: it loses the access; a foreign profile's is named, not guessed", () => {
    const release: Action = {
      kind: "disassociateInstanceProfile",
      manifest: "dev-read",
      reason: reason("association", "rolecall-dev-read", "(none: not selected)", "instance/i-0abc"),
      instanceId: "i-0abc",
      associationId: "iip-assoc-1",
    };
    expect(renderPlanText(passOf("dev-read", [release]), [], [devRead])).toContain(
      "        i-0abc loses read-write on my-bucket/in/ (via dev-read)",
    );
    const takeOver: Action = {
      kind: "replaceInstanceProfileAssociation",
      manifest: "dev-read",
      reason: reason("association", "HandMadeProfile", "rolecall-dev-read", "instance/i-0abc"),
      instanceId: "i-0abc",
      associationId: "iip-assoc-1",
      profileName: "rolecall-dev-read",
    };
    const text = renderPlanText(passOf("dev-read", [takeOver]), [], [devRead]);
    expect(text).toContain("i-0abc gains read-write on my-bucket/in/ (via dev-read)");
    expect(text).toContain("i-0abc loses the access of HandMadeProfile");
  });

  it("an instance released by a removed manifest: the owner going away is named", () => {
    const release: Action = {
      kind: "disassociateInstanceProfile",
      manifest: "gone",
      reason: reason("association", "present", 'absent (manifest "gone" was removed)', "instance/i-0abc"),
      instanceId: "i-0abc",
      associationId: "iip-assoc-1",
    };
    expect(
      renderPlanText(passOf("gone", [release]), [], [devRead])
        .split("\n")
        .at(-1),
    ).toBe("        i-0abc loses the access of the profile of gone, which no manifest wants any more");
  });

  it("a trust policy restored: the principals gained and lost, no JSON", () => {
    const restore: Action = {
      kind: "updateAssumeRolePolicy",
      manifest: "dev-read",
      reason: reason(
        "trustPolicy",
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::999999999999:root" },
              Action: "sts:AssumeRole",
            },
          ],
        }),
        JSON.stringify(ec2TrustPolicy()),
        "role/rolecall-dev-read",
      ),
      roleName: "rolecall-dev-read",
      trustPolicy: ec2TrustPolicy(),
    };
    const text = renderPlanText(passOf("dev-read", [restore]), []);
    expect(text).toContain("        + sts:AssumeRole for Service:ec2.amazonaws.com\n");
    expect(text).toContain("        - sts:AssumeRole for AWS:arn:aws:iam::999999999999:root");
    expect(text).not.toMatch(/[{[]"|\\"/);
  });

  it("lists and tags in reasons are shown as words", () => {
    const attach: Action = {
      kind: "attachRolePolicy",
      manifest: "dev-read",
      reason: reason(
        "attachedPolicies",
        "[]",
        '["arn:aws:iam::1:policy/rolecall/p"]',
        "role/rolecall-dev-read",
      ),
      roleName: "rolecall-dev-read",
      policyName: "p",
      policyArn: undefined,
    };
    expect(renderPlanText(passOf("dev-read", [attach]), [])).toContain(
      "      role/rolecall-dev-read attachedPolicies: (none) → arn:aws:iam::1:policy/rolecall/p",
    );
  });
});

describe("actions that share a reason", () => {
  it("show it once, after the last of them (a composite's policies attached to its role)", () => {
    const attach = (policyName: string): Action => ({
      kind: "attachRolePolicy",
      manifest: "rolecall+abc",
      reason: reason("attachedPolicies", "[]", '["rolecall-dev","rolecall-etl"]', "role/rolecall+abc"),
      roleName: "rolecall+abc",
      policyName,
      policyArn: undefined,
    });
    const text = renderPlanText(passOf("dev-read", [attach("rolecall-dev"), attach("rolecall-etl")]), []);
    expect(text).toContain(
      [
        "  + attach policy rolecall-dev to role rolecall+abc",
        "  + attach policy rolecall-etl to role rolecall+abc",
        "      role/rolecall+abc attachedPolicies: (none) → rolecall-dev, rolecall-etl",
      ].join("\n"),
    );
    expect(text.match(/attachedPolicies:/g)).toHaveLength(1);
  });
});

describe("plan --output json keeps both documents whole", () => {
  it("createPolicyVersion: desired and actual are the documents as objects, with the access diff beside", () => {
    const json = actionJson(newVersion) as Record<string, unknown>;
    expect(json.desired).toEqual(devRead.policy.document);
    expect(policiesEqual(json.actual, live)).toBe(true);
    expect(json.access).toEqual({
      added: [
        { resource: "arn:aws:s3:::my-bucket", actions: ["s3:GetBucketLocation"], condition: null },
        {
          resource: "arn:aws:s3:::my-bucket",
          actions: ["s3:ListBucket"],
          condition: { StringLike: { "s3:prefix": ["in/", "in/*"] } },
        },
        {
          resource: "arn:aws:s3:::my-bucket/in/*",
          actions: ["s3:DeleteObject", "s3:GetObject", "s3:GetObjectVersion"],
          condition: null,
        },
      ],
      removed: [],
    });
  });

  it("an action that writes no document keeps the reason's text", () => {
    const json = actionJson({
      kind: "deleteRole",
      manifest: "m",
      reason: reason("exists", "present", "absent", "role/r"),
      roleName: "r",
    }) as Record<string, unknown>;
    expect(json).toEqual({
      kind: "deleteRole",
      description: "delete role r",
      resource: "role/r",
      field: "exists",
      desired: "absent",
      actual: "present",
    });
  });
});
