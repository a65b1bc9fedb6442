// Diffs in access terms: of two documents, of two versions of a manifest, and the lines and JSON a report shows.
import { describe, expect, it } from "vitest";
import { applyAccessDiff, diffAccess, diffPolicies } from "../../src/access/access-diff.js";
import { accessLineJson, groupGrants, grantsOfLine } from "../../src/access/access-lines.js";
import { summariseAccess } from "../../src/access/access-summary.js";
import { describeLine } from "../../src/access/describe-access.js";
import { diffDesired } from "../../src/access/manifest-change.js";
import { expandPolicy, grantKey } from "../../src/access/policy-grants.js";
import { compileDesired, type DesiredAccess } from "../../src/desired/desired-access.js";
import { compileS3Policy } from "../../src/desired/s3-policy.js";
import type { Grant, InstanceAccess } from "../../src/manifest/instance-access.js";

const shown = (grants: Parameters<typeof groupGrants>[0]) =>
  groupGrants(grants).map((line) => describeLine(line));
const policy = (grants: Grant[], listAll = false) => compileS3Policy(grants, listAll, "aws");

function desired(name: string, spec: Partial<InstanceAccess["spec"]> = {}): DesiredAccess {
  return compileDesired(
    {
      apiVersion: "rolecall.dev/v1alpha1",
      kind: "InstanceAccess",
      metadata: { name },
      spec: {
        instanceSelector: { matchTags: { Team: name } },
        grants: [{ bucket: "b", access: "read" }],
        ...spec,
      },
    },
    { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" },
  );
}

describe("diffPolicies", () => {
  it("write → read-write on a prefix: gains the read and delete actions, per resource, and loses nothing", () => {
    const diff = diffPolicies(
      policy([{ bucket: "my-bucket", access: "write", prefixes: ["in/"] }]),
      policy([{ bucket: "my-bucket", access: "read-write", prefixes: ["in/"] }]),
    );
    expect(shown(diff.added)).toEqual([
      "s3:GetBucketLocation on arn:aws:s3:::my-bucket",
      's3:ListBucket on arn:aws:s3:::my-bucket when s3:prefix StringLike "in/" or "in/*"',
      "s3:DeleteObject, s3:GetObject, s3:GetObjectVersion on arn:aws:s3:::my-bucket/in/*",
    ]);
    expect(diff.removed).toEqual([]);
    expect(diff.version).toBeNull();
  });

  it("a bucket dropped: its actions are lost on its ARNs only", () => {
    const diff = diffPolicies(
      policy([
        { bucket: "keep", access: "read" },
        { bucket: "old-bucket", access: "write" },
      ]),
      policy([{ bucket: "keep", access: "read" }]),
    );
    expect(diff.added).toEqual([]);
    expect(shown(diff.removed)).toEqual([
      "s3:ListBucketMultipartUploads on arn:aws:s3:::old-bucket",
      "s3:AbortMultipartUpload, s3:ListMultipartUploadParts, s3:PutObject on arn:aws:s3:::old-bucket/*",
    ]);
  });

  it("the listAllBuckets fix, as an existing policy sees it: ListAllMyBuckets moves from arn:aws:s3:::* to *", () => {
    const before = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AllowUserToSeeBucketListInTheConsole",
          Effect: "Allow",
          Action: ["s3:GetBucketLocation", "s3:ListAllMyBuckets"],
          Resource: ["arn:aws:s3:::*"],
        },
      ],
    };
    const after = policy([{ bucket: "b", access: "read" }], true);
    const diff = diffPolicies(before, after);
    expect(shown(diff.removed)).toEqual(["s3:ListAllMyBuckets on arn:aws:s3:::*"]);
    expect(shown(diff.added)).toContain("s3:ListAllMyBuckets on *");
    expect(shown(diff.added)).not.toContain("s3:GetBucketLocation on arn:aws:s3:::*");
  });

  it("an unreadable live document: everything compiled is gained, and the problem is said", () => {
    const diff = diffPolicies(undefined, policy([{ bucket: "b", access: "read" }]));
    expect(diff.removed).toEqual([]);
    expect(diff.added).toHaveLength(4);
    expect(diff.problems.base).toEqual(["the document could not be read as a policy"]);
    expect(diff.version).toBeNull();
  });

  it("names a change of Version, which changes how policy variables are read", () => {
    const statement = { Effect: "Allow", Action: "s3:GetObject", Resource: "*" };
    const diff = diffPolicies(
      { Version: "2008-10-17", Statement: [statement] },
      { Version: "2012-10-17", Statement: [statement] },
    );
    expect(diff.version).toEqual({ base: "2008-10-17", head: "2012-10-17" });
    expect(diff.added).toEqual([]);
  });
});

describe("diffAccess and applyAccessDiff", () => {
  it("applying the diff to BASE gives HEAD, and the diff of a set with itself is empty", () => {
    const base = expandPolicy(policy([{ bucket: "a", access: "read-write", prefixes: ["x/"] }])).grants;
    const head = expandPolicy(
      policy([
        { bucket: "a", access: "read" },
        { bucket: "c", access: "write" },
      ]),
    ).grants;
    const diff = diffAccess(base, head);
    expect(applyAccessDiff(base, diff).map(grantKey).sort()).toEqual(head.map(grantKey).sort());
    expect(diffAccess(head, head)).toEqual({ added: [], removed: [] });
  });
});

describe("lines and their JSON", () => {
  const grants = expandPolicy(policy([{ bucket: "b", access: "read", prefixes: ["in/"] }])).grants;

  it("group the actions of one resource and condition; ungrouping gives the terms back", () => {
    const lines = groupGrants(grants);
    expect(lines.flatMap(grantsOfLine).map(grantKey).sort()).toEqual(grants.map(grantKey).sort());
    expect(lines.map((line) => line.actions)).toEqual([
      ["s3:GetBucketLocation"],
      ["s3:ListBucket"],
      ["s3:GetObject", "s3:GetObjectVersion"],
    ]);
  });

  it("JSON of a compiled line is exactly {resource, actions, condition}", () => {
    expect(groupGrants(grants).map(accessLineJson)).toEqual([
      { resource: "arn:aws:s3:::b", actions: ["s3:GetBucketLocation"], condition: null },
      {
        resource: "arn:aws:s3:::b",
        actions: ["s3:ListBucket"],
        condition: { StringLike: { "s3:prefix": ["in/", "in/*"] } },
      },
      { resource: "arn:aws:s3:::b/in/*", actions: ["s3:GetObject", "s3:GetObjectVersion"], condition: null },
    ]);
  });

  it("JSON of hand-edited shapes says Deny, NotAction and NotResource explicitly", () => {
    const edited = expandPolicy({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Deny", NotAction: "s3:GetObject", NotResource: ["arn:aws:s3:::b/*"] },
        { Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" },
      ],
    }).grants;
    expect(groupGrants(edited).map(accessLineJson)).toEqual([
      { resource: null, actions: ["sts:AssumeRole"], condition: null, principal: "*" },
      {
        resource: null,
        actions: ["s3:GetObject"],
        condition: null,
        effect: "Deny",
        notAction: true,
        notResource: ["arn:aws:s3:::b/*"],
      },
    ]);
  });
});

describe("summariseAccess: a manifest's access in its own words", () => {
  const summary = (grants: Grant[], listAll = false) =>
    summariseAccess(expandPolicy(policy(grants, listAll)).grants);

  it("names the level and the scope of each grant", () => {
    expect(summary([{ bucket: "my-bucket", access: "read", prefixes: ["in/"] }])).toEqual([
      "read on my-bucket/in/",
    ]);
    expect(summary([{ bucket: "logs", access: "read-write" }], true)).toEqual([
      "read-write on logs",
      "list all buckets",
    ]);
    expect(
      summary([
        { bucket: "a", access: "write" },
        { bucket: "b", access: "write", prefixes: ["x/"] },
      ]),
    ).toEqual(["write on a, b/x/"]);
    // read and write from two grants, without the delete that read-write brings
    expect(
      summary([
        { bucket: "a", access: "read" },
        { bucket: "a", access: "write" },
      ]),
    ).toEqual(["read and write on a"]);
  });

  it("hides no term: what the levels do not account for is listed as it is", () => {
    const edited = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObjectAcl"],
          Resource: "arn:aws:s3:::b/*",
        },
        { Effect: "Allow", Action: "s3:ListBucketMultipartUploads", Resource: "arn:aws:s3:::b" },
        { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::c/*" },
        { Effect: "Allow", Action: "s3:GetBucketLocation", Resource: "arn:aws:s3:::*" },
      ],
    };
    expect(summariseAccess(expandPolicy(edited).grants)).toEqual([
      "read on b",
      "s3:GetBucketLocation on arn:aws:s3:::*",
      // ListBucketMultipartUploads goes with write, which b does not have
      "s3:ListBucketMultipartUploads on arn:aws:s3:::b",
      "s3:PutObjectAcl on arn:aws:s3:::b/*",
      "s3:GetObject on arn:aws:s3:::c/*",
    ]);
  });
});

describe("diffDesired: one manifest's two versions", () => {
  it("unchanged when only what compiles the same changed", () => {
    const a = desired("m", {
      onConflict: "skip",
      grants: [
        { bucket: "b", access: "read" },
        { bucket: "b", access: "read" },
      ],
    });
    const b = desired("m");
    expect(diffDesired("m", a, b)).toEqual({
      manifest: "m",
      change: "unchanged",
      access: { added: [], removed: [] },
      fields: [],
    });
  });

  it("changed fields carry the values before and after, defaults applied", () => {
    const change = diffDesired(
      "m",
      desired("m"),
      desired("m", {
        instanceSelector: { matchTags: { Team: "m", Env: "prod" }, instanceIds: ["i-0123456789abcdef0"] },
        mode: "observe",
        adopt: true,
        iam: { policyName: "P" },
      }),
    );
    expect(change.change).toBe("changed");
    expect(change.access).toEqual({ added: [], removed: [] });
    expect(change.fields).toEqual([
      { field: "spec.instanceSelector.instanceIds", base: [], head: ["i-0123456789abcdef0"] },
      { field: "spec.instanceSelector.matchTags", base: { Team: "m" }, head: { Env: "prod", Team: "m" } },
      { field: "spec.mode", base: "enforce", head: "observe" },
      { field: "spec.adopt", base: false, head: true },
      { field: "spec.iam.policyName", base: "rolecall-m", head: "P" },
    ]);
  });

  it("added: every term gained and every field from null; removed: the reverse", () => {
    const added = diffDesired("m", undefined, desired("m"));
    expect(added.change).toBe("added");
    expect(added.access.removed).toEqual([]);
    expect(added.access.added.length).toBe(expandPolicy(desired("m").policy.document).grants.length);
    expect(added.fields.every((field) => field.base === null && field.head !== null)).toBe(true);
    const removed = diffDesired("m", desired("m"), undefined);
    expect(removed.change).toBe("removed");
    expect(removed.access.added).toEqual([]);
    expect(removed.fields.every((field) => field.head === null)).toBe(true);
  });
});
