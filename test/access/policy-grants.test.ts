// Access terms of policy documents: what rolecall compiles, and what a hand-edited live document may look like.
import { describe, expect, it } from "vitest";
import { groupGrants } from "../../src/access/access-lines.js";
import { canonicalCondition } from "../../src/access/condition.js";
import { describeLine } from "../../src/access/describe-access.js";
import { expandPolicy, grantKey } from "../../src/access/policy-grants.js";
import { compileS3Policy } from "../../src/desired/s3-policy.js";

const doc = (...Statement: unknown[]) => ({ Version: "2012-10-17", Statement });
const lines = (document: unknown) =>
  groupGrants(expandPolicy(document).grants).map((line) => describeLine(line));
const keys = (document: unknown) => expandPolicy(document).grants.map(grantKey).sort();

describe("expandPolicy: compiled documents", () => {
  it("reads the seed's policy as one term per action and resource, grouped per resource for reading", () => {
    const document = compileS3Policy([{ bucket: "my-dev-bucket", access: "read" }], true, "aws");
    expect(lines(document)).toEqual([
      "s3:ListAllMyBuckets on *",
      "s3:GetBucketLocation on arn:aws:s3:::*",
      "s3:GetBucketLocation, s3:ListBucket on arn:aws:s3:::my-dev-bucket",
      "s3:GetObject, s3:GetObjectVersion on arn:aws:s3:::my-dev-bucket/*",
    ]);
    expect(expandPolicy(document).grants).toHaveLength(6);
    expect(expandPolicy(document).problems).toEqual([]);
    expect(expandPolicy(document).version).toBe("2012-10-17");
  });

  it("keeps a prefix listing's condition whole, in canonical form", () => {
    const document = compileS3Policy([{ bucket: "b", access: "read", prefixes: ["in/"] }], false, "aws");
    const listing = expandPolicy(document).grants.find(
      (grant) => "only" in grant.action && grant.action.only === "s3:ListBucket",
    );
    expect(listing?.condition).toEqual({ StringLike: { "s3:prefix": ["in/", "in/*"] } });
    expect(lines(document)).toContain(
      's3:ListBucket on arn:aws:s3:::b when s3:prefix StringLike "in/" or "in/*"',
    );
  });
});

describe("expandPolicy: documents edited by hand", () => {
  const compiled = doc({
    Effect: "Allow",
    Action: ["s3:GetObject", "s3:PutObject"],
    Resource: ["arn:aws:s3:::b/*", "arn:aws:s3:::c/*"],
  });

  it("a string or a list, the case of action names, order, repeats and Sids mean the same terms", () => {
    const edited = doc(
      { Sid: "One", Effect: "Allow", Action: "S3:PUTOBJECT", Resource: "arn:aws:s3:::c/*" },
      {
        Effect: "Allow",
        Action: ["s3:getobject", "s3:GetObject"],
        Resource: ["arn:aws:s3:::c/*", "arn:aws:s3:::b/*"],
      },
      { Effect: "Allow", Action: "s3:PutObject", Resource: ["arn:aws:s3:::b/*"] },
    );
    expect(keys(edited)).toEqual(keys(compiled));
  });

  it("shows AWS's spelling of the actions rolecall knows, and other actions as written", () => {
    expect(
      lines(doc({ Effect: "Allow", Action: ["s3:getobject", "s3:GETBucketTagging"], Resource: "*" })),
    ).toEqual(["s3:GETBucketTagging, s3:GetObject on *"]);
  });

  it("keeps wildcards as written: s3:Get* is a pattern, not the actions it matches today", () => {
    const terms = expandPolicy(
      doc({ Effect: "Allow", Action: "s3:Get*", Resource: "arn:aws:s3:::b/*" }),
    ).grants;
    expect(terms).toEqual([
      {
        effect: "Allow",
        action: { only: "s3:Get*" },
        resource: { only: "arn:aws:s3:::b/*" },
        principal: null,
        condition: null,
      },
    ]);
    expect(keys(doc({ Effect: "Allow", Action: "s3:get*", Resource: "arn:aws:s3:::b/*" }))).toEqual(
      terms.map(grantKey),
    );
  });

  it("reports Deny, NotAction and NotResource statements as such instead of dropping them", () => {
    const edited = doc(
      { Effect: "Deny", Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/*" },
      { Effect: "Allow", NotAction: ["s3:DeleteObject", "iam:*"], Resource: "*" },
      { Effect: "Allow", Action: "s3:GetObject", NotResource: ["arn:aws:s3:::secret/*"] },
    );
    expect(lines(edited)).toEqual([
      "every action except iam:*, s3:DeleteObject on *",
      "Deny s3:DeleteObject on arn:aws:s3:::b/*",
      "s3:GetObject on every resource except arn:aws:s3:::secret/*",
    ]);
    // NotAction [a, b] is one exclusion, not two terms: "all but a" or "all but b" would be everything.
    expect(expandPolicy(edited).grants).toHaveLength(3);
  });

  it("a Deny and an Allow of the same action on the same resource are different terms", () => {
    const allow = doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "*" });
    const deny = doc({ Effect: "Deny", Action: "s3:GetObject", Resource: "*" });
    expect(keys(allow)).not.toEqual(keys(deny));
  });

  it("reads a trust policy: its principal is part of each term, and it has no resource", () => {
    const trust = {
      Version: "2012-10-17",
      Statement: {
        Effect: "Allow",
        Principal: { Service: ["ec2.amazonaws.com"], AWS: "arn:aws:iam::1:root" },
        Action: "sts:assumerole",
      },
    };
    expect(lines(trust)).toEqual([
      "sts:AssumeRole for AWS:arn:aws:iam::1:root",
      "sts:AssumeRole for Service:ec2.amazonaws.com",
    ]);
  });

  it("says which statements it cannot read, and keeps the terms of the others", () => {
    const broken = doc(
      "not a statement",
      { Sid: "NoAction", Effect: "Allow", Resource: "*" },
      { Effect: "Maybe", Action: "s3:GetObject", Resource: "*" },
      { Effect: "Allow", Action: "s3:GetObject", NotAction: "s3:PutObject", Resource: "*" },
      { Effect: "Allow", Action: [1], Resource: "*" },
      { Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: "always" },
      { Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::b" },
    );
    const access = expandPolicy(broken);
    expect(access.problems).toEqual([
      "statement 1: not an object",
      "statement 2 (Sid NoAction): no Action or NotAction",
      'statement 3: Effect is "Maybe", not Allow or Deny',
      "statement 4: both Action and NotAction",
      "statement 5: Action must be a string or a list of strings",
      "statement 6: Condition is not an object",
    ]);
    expect(lines(broken)).toEqual(["s3:ListBucket on arn:aws:s3:::b"]);
  });

  it("a document that is not one has no terms and one problem", () => {
    for (const notADocument of [undefined, null, "text", [1, 2]]) {
      expect(expandPolicy(notADocument)).toEqual({
        version: null,
        grants: [],
        problems: ["the document could not be read as a policy"],
      });
    }
    expect(expandPolicy({ Version: "2012-10-17" }).problems).toEqual(["the document has no Statement"]);
  });
});

describe("canonicalCondition", () => {
  it("lower-cases keys, sorts and dedupes values, accepts a string for a list, drops an empty block", () => {
    expect(
      canonicalCondition({
        StringLike: { "S3:Prefix": ["b", "a", "b"] },
        Bool: { "aws:SecureTransport": true },
      }),
    ).toEqual({
      Bool: { "aws:securetransport": ["true"] },
      StringLike: { "s3:prefix": ["a", "b"] },
    });
    expect(canonicalCondition({ StringEquals: { "aws:SourceVpc": "vpc-1" } })).toEqual(
      canonicalCondition({ StringEquals: { "aws:sourcevpc": ["vpc-1"] } }),
    );
    expect(canonicalCondition({})).toBeNull();
    expect(canonicalCondition(undefined)).toBeNull();
    expect(() => canonicalCondition({ StringLike: "x" })).toThrow(/not an object of keys/);
  });

  it("keeps values' case and operators as written: both change what a condition means", () => {
    expect(canonicalCondition({ StringEquals: { k: "A" } })).not.toEqual(
      canonicalCondition({ StringEquals: { k: "a" } }),
    );
    expect(canonicalCondition({ StringEquals: { k: "a" } })).not.toEqual(
      canonicalCondition({ StringLike: { k: "a" } }),
    );
  });
});
