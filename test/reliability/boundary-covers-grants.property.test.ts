// The boundary is exactly the union of what rolecall can grant: for random valid manifests, every request a
// compiled policy allows is still allowed under the boundary (so a bounded role loses nothing it was declared),
// and the boundary's actions are exactly the access levels' actions, on S3 resources, with nothing else.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileDesired } from "../../src/desired/desired-access.js";
import type { PolicyDocument } from "../../src/desired/policy-document.js";
import { s3Actions } from "../../src/desired/s3-policy.js";
import type { AccessLevel, Grant, InstanceAccess } from "../../src/manifest/instance-access.js";
import { checkSchema } from "../../src/manifest/schema-errors.js";
import { isAllowed, type Request } from "../support/iam-evaluator.js";
import { boundaryArn, list, policyPaths, readPolicy } from "./policy-files.js";

const boundary = readPolicy(policyPaths.boundary);

// ---- manifests, as varied as the schema allows where it matters here: buckets, levels, prefixes, listing ----

const keyPrefix = fc
  .array(fc.constantFrom("a", "b", "/", "-", ".", " ", "é", "+"), { minLength: 1, maxLength: 4 })
  .map((characters) => characters.join(""));

const grantArb: fc.Arbitrary<Grant> = fc
  .record({
    bucket: fc.constantFrom("logs", "reports", "data.lake", "x9z"),
    access: fc.constantFrom<AccessLevel>("read", "write", "read-write"),
    prefixes: fc.option(fc.uniqueArray(keyPrefix, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  })
  .map(({ bucket, access, prefixes }) =>
    prefixes === undefined ? { bucket, access } : { bucket, access, prefixes },
  );

const manifestArb: fc.Arbitrary<InstanceAccess> = fc
  .record({ grants: fc.array(grantArb, { minLength: 1, maxLength: 4 }), listAllBuckets: fc.boolean() })
  .map(({ grants, listAllBuckets }) => ({
    apiVersion: "rolecall.dev/v1alpha1",
    kind: "InstanceAccess",
    metadata: { name: "m" },
    spec: {
      instanceSelector: { matchTags: { Team: "m" } },
      grants,
      ...(listAllBuckets ? { listAllBuckets: true } : {}),
    },
  }));

// ---- the requests a compiled policy allows: its own patterns, made concrete ----

/** Strings a `*` in a policy pattern stands for: nothing, one character, a deeper key, and a literal star. */
const fillings = ["", "k", "deep/er/key.csv", "*"];

const concrete = (pattern: string): string[] => [
  ...new Set(fillings.map((filling) => pattern.replaceAll("*", filling))),
];

/** Every (action, resource, s3:prefix) a statement names, with each wildcard filled in a few ways. */
function requestsOf(document: PolicyDocument): Request[] {
  return document.Statement.flatMap((statement) => {
    const prefixes = statement.Condition?.StringLike?.["s3:prefix"];
    const contexts =
      prefixes === undefined ? [{}] : prefixes.flatMap(concrete).map((prefix) => ({ "s3:prefix": prefix }));
    return list(statement.Action).flatMap((action) =>
      list(statement.Resource).flatMap((pattern) =>
        concrete(pattern).flatMap((resource) => contexts.map((context) => ({ action, resource, context }))),
      ),
    );
  });
}

describe("the boundary covers everything rolecall can grant", () => {
  it("every request a compiled manifest policy allows, the boundary allows too", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(manifestArb, (manifest) => {
        const checked = checkSchema(manifest);
        expect(checked.ok ? [] : checked.problems, "the generated manifest is schema-valid").toEqual([]);
        const options = { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" as const };
        const desired = compileDesired(manifest, { ...options, permissionsBoundary: boundaryArn });
        expect(desired.role.permissionsBoundary).toBe(boundaryArn);
        const document = desired.policy.document;
        const requests = requestsOf(document);
        expect(requests.length).toBeGreaterThan(0);
        const wrong = requests.flatMap((request) => {
          // The request is the policy's own: if the policy did not allow it, this test built it wrongly.
          if (!isAllowed({ identity: [document] }, request))
            return [`not granted: ${JSON.stringify(request)}`];
          if (!isAllowed({ identity: [document], boundary }, request))
            return [`cut by the boundary: ${JSON.stringify(request)}`];
          return [];
        });
        expect(wrong.slice(0, 5)).toEqual([]);
        for (const request of requests) seen.add(request.action);
      }),
      { numRuns: 300 },
    );
    // Every action of every access level was granted in some run, so none of them went unchecked.
    expect(seen).toEqual(new Set<string>(Object.values(s3Actions).flat()));
  });

  it("allows exactly the access levels' actions and nothing else", () => {
    const granted = new Set<string>(Object.values(s3Actions).flat());
    const allowed = boundary.Statement.flatMap((statement) => list(statement.Action));
    expect(new Set(allowed)).toEqual(granted);
    expect(allowed, "each action in one statement").toHaveLength(granted.size);
    // The union, spelled out: a change to the access levels must be a deliberate change here too.
    expect([...granted].sort()).toEqual([
      "s3:AbortMultipartUpload",
      "s3:DeleteObject",
      "s3:GetBucketLocation",
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:ListAllMyBuckets",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
      "s3:ListMultipartUploadParts",
      "s3:PutObject",
    ]);
  });

  it("is Allow statements on S3 resources only; `*` only for s3:ListAllMyBuckets, which has no resource type", () => {
    expect(boundary.Version).toBe("2012-10-17");
    for (const statement of boundary.Statement) {
      expect(Object.keys(statement).sort(), statement.Sid).toEqual(["Action", "Effect", "Resource", "Sid"]);
      expect(statement.Effect).toBe("Allow");
      for (const resource of list(statement.Resource)) {
        if (resource === "*") expect(list(statement.Action), statement.Sid).toEqual(["s3:ListAllMyBuckets"]);
        else expect(resource, statement.Sid).toMatch(/^arn:aws:s3:::\*(\/\*)?$/);
      }
    }
    const on = (action: string, resource: string) =>
      isAllowed({ identity: [boundary] }, { action, resource });
    expect(on("s3:GetObject", "arn:aws:s3:::bucket")).toBe(false);
    expect(on("s3:GetObject", "arn:aws:s3:::bucket/key")).toBe(true);
    expect(on("s3:ListBucket", "arn:aws:s3:::bucket")).toBe(true);
    expect(on("s3:ListAllMyBuckets", "*")).toBe(true);
  });
});
