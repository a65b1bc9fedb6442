// Least privilege, proven by evaluation: for random sets of valid manifests, the shared model of IAM's evaluation
// (test/support/iam-evaluator.ts), run over requests built from what was declared and from near misses, allows exactly the
// declared (bucket, prefix, access) triples, policy by policy and for the union of all policies together.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileDesired, type DesiredAccess } from "../../src/desired/desired-access.js";
import type { PolicyDocument, PolicyStatement } from "../../src/desired/policy-document.js";
import { listAllBucketsSid, locateAllBucketsSid } from "../../src/desired/s3-policy.js";
import type { AccessLevel, Grant, InstanceAccess } from "../../src/manifest/instance-access.js";
import { checkSchema } from "../../src/manifest/schema-errors.js";
import { globMatches, isAllowed, type Request as IamRequest } from "../support/iam-evaluator.js";

// ---- the shared IAM evaluator, held to the shapes rolecall's compiler writes ----

/** One request: an action on a resource, with the s3:prefix condition key when the request carries one. */
interface Request {
  readonly action: string;
  readonly resource: string;
  readonly prefix?: string;
}

const asList = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === "string" ? [value] : value;

const modelled = new WeakSet<PolicyStatement>();

/**
 * Refuses what the compiler is not known to write, so a compiler change cannot slip past this proof unnoticed
 * (the shared evaluator models more, such as Deny and wildcard actions, which compiled policies never hold).
 */
function checkModelled(statement: PolicyStatement): void {
  if (modelled.has(statement)) return;
  const refuse = (what: string) => {
    throw new Error(`not modelled: ${what} in ${JSON.stringify(statement)}`);
  };
  for (const key of Object.keys(statement))
    if (!["Sid", "Effect", "Action", "Resource", "Condition"].includes(key)) refuse(`the field ${key}`);
  if ((statement.Effect as string) !== "Allow") refuse("an effect other than Allow");
  for (const action of asList(statement.Action))
    if (!/^s3:[A-Za-z]+$/.test(action)) refuse(`the action ${action}`);
  for (const resource of asList(statement.Resource))
    if (resource.includes("?") || resource.slice(0, -1).includes("*")) refuse(`the resource ${resource}`);
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    if (operator !== "StringLike") refuse(`the condition operator ${operator}`);
    if (Object.keys(keys).join() !== "s3:prefix") refuse(`the condition keys ${Object.keys(keys).join()}`);
  }
  modelled.add(statement);
}

const asIamRequest = ({ action, resource, prefix }: Request): IamRequest =>
  prefix === undefined ? { action, resource } : { action, resource, context: { "s3:prefix": prefix } };

function allows(documents: readonly PolicyDocument[], request: Request): boolean {
  return allowsAll(documents, [request])[0] ?? false;
}

/** Evaluates many requests, checking the documents once. */
function allowsAll(documents: readonly PolicyDocument[], requests: readonly Request[]): boolean[] {
  for (const document of documents) document.Statement.forEach(checkModelled);
  return requests.map((request) => isAllowed({ identity: documents }, asIamRequest(request)));
}

// ---- the declared triples, and what they mean, independently of the compiler ----

type Level = "read" | "write" | "delete";
const levelsOf: Record<AccessLevel, readonly Level[]> = {
  read: ["read"],
  write: ["write"],
  "read-write": ["read", "write", "delete"],
};
const objectLevel: Readonly<Record<string, Level>> = {
  "s3:GetObject": "read",
  "s3:GetObjectVersion": "read",
  "s3:PutObject": "write",
  "s3:AbortMultipartUpload": "write",
  "s3:ListMultipartUploadParts": "write",
  "s3:DeleteObject": "delete",
};
/** Actions rolecall must never grant: other S3 object and bucket operations, and a stray non-S3 one. */
const neverGranted = [
  "s3:PutObjectAcl",
  "s3:GetObjectAcl",
  "s3:DeleteObjectVersion",
  "s3:PutObjectTagging",
  "s3:RestoreObject",
  "s3:PutBucketPolicy",
  "s3:GetBucketPolicy",
  "s3:DeleteBucket",
  "s3:PutBucketAcl",
  "s3:CreateBucket",
  "iam:PassRole",
];

interface Declared {
  readonly grants: readonly Grant[];
  readonly listAllBuckets: boolean;
}

/** What a set of declarations allows, from the README's access table and nothing else. */
function declaredAllows(declarations: readonly Declared[], partition: string, request: Request): boolean {
  const grants = declarations.flatMap((declaration) => declaration.grants);
  const listAll = declarations.some((declaration) => declaration.listAllBuckets);
  const head = `arn:${partition}:s3:::`;
  // s3:ListAllMyBuckets has no resource type: it is granted on "*", which every request's resource matches.
  if (request.action === "s3:ListAllMyBuckets") return listAll;
  if (!request.resource.startsWith(head)) return false;
  const rest = request.resource.slice(head.length);
  const slash = rest.indexOf("/");
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? undefined : rest.slice(slash + 1);
  const on = (level: Level) =>
    grants.filter((grant) => grant.bucket === bucket && levelsOf[grant.access].includes(level));
  const under = (grant: Grant, value: string) =>
    grant.prefixes === undefined || grant.prefixes.some((prefix) => value.startsWith(prefix));

  const level = objectLevel[request.action];
  if (level !== undefined) return key !== undefined && on(level).some((grant) => under(grant, key));
  if (key !== undefined) return false;
  switch (request.action) {
    case "s3:ListBucket":
      return on("read").some(
        (grant) =>
          grant.prefixes === undefined || (request.prefix !== undefined && under(grant, request.prefix)),
      );
    case "s3:GetBucketLocation":
      return listAll || on("read").length > 0;
    case "s3:ListBucketMultipartUploads":
      return on("write").length > 0;
    default:
      return false;
  }
}

// ---- requests: every declared triple, and its near misses ----

const objectActions = Object.keys(objectLevel);
const bucketActions = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"];

/** Keys and list prefixes at, inside, beside and outside a declared prefix. */
function keysAround(prefix: string): string[] {
  const last = prefix.slice(-1);
  const sibling = `${prefix.slice(0, -1)}${last === "a" ? "b" : "a"}`;
  return [
    prefix,
    `${prefix}x`,
    `${prefix}/deeper/key.csv`,
    prefix.slice(0, -1),
    sibling,
    `${sibling}x`,
    `x${prefix}`,
  ];
}

function requestsFor(
  declarations: readonly Declared[],
  partition: string,
  extraBuckets: readonly string[],
  extraKeys: readonly string[],
): Request[] {
  const grants = declarations.flatMap((declaration) => declaration.grants);
  const head = `arn:${partition}:s3:::`;
  const otherPartition = partition === "aws" ? "aws-cn" : "aws";
  const declaredBuckets = [...new Set(grants.map((grant) => grant.bucket))];
  // Other buckets: undeclared ones, and names that extend or shorten a declared one.
  const otherBuckets = [
    ...declaredBuckets.flatMap((bucket) => [`${bucket}x`, `${bucket}-evil`, bucket.slice(0, -1)]),
    ...extraBuckets,
  ];
  const requests: Request[] = [
    { action: "s3:ListAllMyBuckets", resource: `${head}*` },
    { action: "s3:ListAllMyBuckets", resource: "*" },
  ];
  const objectRequests = (bucket: string, key: string, actions: readonly string[]) => {
    for (const action of actions) requests.push({ action, resource: `${head}${bucket}/${key}` });
  };
  for (const bucket of [...declaredBuckets, ...otherBuckets]) {
    for (const action of [...bucketActions, ...neverGranted])
      requests.push({ action, resource: `${head}${bucket}` });
    requests.push(
      { action: "s3:ListBucket", resource: `${head}${bucket}`, prefix: "" },
      { action: "s3:ListBucket", resource: `${head}${bucket}`, prefix: "other/" },
      // The wrong partition, and a bucket-level action aimed at an object and back.
      { action: "s3:GetObject", resource: `arn:${otherPartition}:s3:::${bucket}/other/key` },
      { action: "s3:ListBucket", resource: `${head}${bucket}/` },
      { action: "s3:GetObject", resource: `${head}${bucket}` },
    );
    for (const key of ["", "other/key", ...extraKeys])
      objectRequests(bucket, key, [...objectActions, ...neverGranted]);
  }
  // Around every declared prefix: in its own bucket, in another declared one, and in one that is not declared.
  for (const grant of grants) {
    const others = declaredBuckets.filter((bucket) => bucket !== grant.bucket);
    for (const prefix of grant.prefixes ?? []) {
      for (const key of keysAround(prefix)) {
        for (const bucket of [grant.bucket, ...others.slice(0, 1), `${grant.bucket}x`]) {
          objectRequests(bucket, key, [...objectActions, "s3:PutObjectAcl"]);
          requests.push({ action: "s3:ListBucket", resource: `${head}${bucket}`, prefix: key });
        }
      }
    }
  }
  return requests;
}

// ---- generators of valid manifest sets ----

/** Few buckets and a small key alphabet, so manifests overlap and prefixes nest ("a/" and "a/b"). */
const bucketPool = ["logs", "reports", "reports-archive", "data.lake", "x9z"];
const keyPrefix = fc
  .array(fc.constantFrom("a", "b", "/", "-", "_", ".", " ", "é", "日", "+", "="), {
    minLength: 1,
    maxLength: 4,
  })
  .map((characters) => characters.join(""));

const grantArb: fc.Arbitrary<Grant> = fc
  .record({
    bucket: fc.constantFrom(...bucketPool),
    access: fc.constantFrom<AccessLevel>("read", "write", "read-write"),
    prefixes: fc.option(fc.uniqueArray(keyPrefix, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  })
  .map(({ bucket, access, prefixes }) =>
    prefixes === undefined ? { bucket, access } : { bucket, access, prefixes },
  );

const declaredArb: fc.Arbitrary<Declared> = fc.record({
  grants: fc.array(grantArb, { minLength: 1, maxLength: 5 }),
  listAllBuckets: fc.boolean(),
});

function manifestOf(name: string, declared: Declared): InstanceAccess {
  return {
    apiVersion: "rolecall.dev/v1alpha1",
    kind: "InstanceAccess",
    metadata: { name },
    spec: {
      instanceSelector: { matchTags: { Team: name } },
      grants: [...declared.grants],
      ...(declared.listAllBuckets ? { listAllBuckets: true } : {}),
    },
  };
}

const partitionArb = fc.constantFrom("aws", "aws-cn", "aws-us-gov");

function compile(name: string, declared: Declared, partition: string): DesiredAccess {
  const manifest = manifestOf(name, declared);
  const checked = checkSchema(manifest);
  expect(checked.ok ? [] : checked.problems, "the generated manifest is schema-valid").toEqual([]);
  return compileDesired(manifest, { iamPath: "/rolecall/", partition, defaultMode: "enforce" });
}

describe("least privilege, by evaluation", () => {
  it("the union of all compiled policies allows exactly the declared triples, and each policy its own", () => {
    fc.assert(
      fc.property(
        fc.array(declaredArb, { minLength: 1, maxLength: 4 }),
        partitionArb,
        fc.uniqueArray(fc.constantFrom("unrelated", "logs2", "reportsx"), { maxLength: 2 }),
        fc.uniqueArray(keyPrefix, { maxLength: 3 }),
        (declarations, partition, extraBuckets, extraKeys) => {
          const desiredAll = declarations.map((declared, index) => compile(`m${index}`, declared, partition));
          const documents = desiredAll.map((desired) => desired.policy.document);
          const requests = requestsFor(declarations, partition, extraBuckets, extraKeys);
          const show = (request: Request) =>
            `${request.action} ${request.resource}${request.prefix === undefined ? "" : ` prefix=${JSON.stringify(request.prefix)}`}`;
          const wrong: string[] = [];
          const union = allowsAll(documents, requests);
          const expected = requests.map((request) => declaredAllows(declarations, partition, request));
          requests.forEach((request, index) => {
            if (union[index] !== expected[index])
              wrong.push(`union allows=${union[index]}: ${show(request)}`);
          });
          documents.forEach((document, which) => {
            const own = declarations[which] ?? { grants: [], listAllBuckets: false };
            const allowed = allowsAll([document], requests);
            requests.forEach((request, index) => {
              if (allowed[index] !== declaredAllows([own], partition, request))
                wrong.push(`m${which} allows=${allowed[index]}: ${show(request)}`);
            });
          });
          expect(wrong.slice(0, 10)).toEqual([]);
          const allowedSeen = expected.filter(Boolean).length;
          // The requests exercise both answers: every declaration allows something.
          expect(allowedSeen).toBeGreaterThan(0);
          // And the roles carrying these policies can be assumed by EC2 and nothing else.
          for (const desired of desiredAll)
            expect(desired.role.trustPolicy).toEqual({
              Version: "2012-10-17",
              Statement: [
                { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
              ],
            });
        },
      ),
      { numRuns: 150 },
    );
  });

  it("listAllBuckets adds only the fixed listing statements", () => {
    fc.assert(
      fc.property(declaredArb, partitionArb, (declared, partition) => {
        const without = compile("m", { ...declared, listAllBuckets: false }, partition).policy.document;
        const withListing = compile("m", { ...declared, listAllBuckets: true }, partition).policy.document;
        const listing = withListing.Statement.filter(
          (statement) =>
            !without.Statement.some((other) => JSON.stringify(other) === JSON.stringify(statement)),
        );
        expect(listing).toEqual([
          { Sid: listAllBucketsSid, Effect: "Allow", Action: ["s3:ListAllMyBuckets"], Resource: ["*"] },
          {
            Sid: locateAllBucketsSid,
            Effect: "Allow",
            Action: ["s3:GetBucketLocation"],
            Resource: [`arn:${partition}:s3:::*`],
          },
        ]);
        expect(withListing.Statement).toHaveLength(without.Statement.length + 2);
        // What it adds, evaluated: the bucket list, and the location of any bucket; no object, no listing of keys.
        const head = `arn:${partition}:s3:::`;
        const added = (request: Request) => allows([withListing], request) && !allows([without], request);
        expect(added({ action: "s3:ListAllMyBuckets", resource: `${head}*` })).toBe(true);
        expect(allows([withListing], { action: "s3:GetBucketLocation", resource: `${head}any-bucket` })).toBe(
          true,
        );
        for (const action of [...objectActions, ...neverGranted])
          expect(added({ action, resource: `${head}any-bucket/key` }), action).toBe(false);
        for (const action of ["s3:ListBucket", "s3:ListBucketMultipartUploads", ...neverGranted])
          expect(added({ action, resource: `${head}any-bucket`, prefix: "" }), action).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("the evaluator itself: wildcards, conditions and near misses behave as IAM's do", () => {
    const statement: PolicyStatement = {
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: ["arn:aws:s3:::b"],
      Condition: { StringLike: { "s3:prefix": ["a/", "a/*"] } },
    };
    const document: PolicyDocument = { Version: "2012-10-17", Statement: [statement] };
    expect(allows([document], { action: "s3:ListBucket", resource: "arn:aws:s3:::b", prefix: "a/" })).toBe(
      true,
    );
    expect(allows([document], { action: "s3:ListBucket", resource: "arn:aws:s3:::b", prefix: "a/x/y" })).toBe(
      true,
    );
    expect(allows([document], { action: "s3:listbucket", resource: "arn:aws:s3:::b", prefix: "a/" })).toBe(
      true,
    );
    expect(allows([document], { action: "s3:ListBucket", resource: "arn:aws:s3:::b", prefix: "a" })).toBe(
      false,
    );
    expect(allows([document], { action: "s3:ListBucket", resource: "arn:aws:s3:::b" })).toBe(false);
    expect(allows([document], { action: "s3:ListBucket", resource: "arn:aws:s3:::bb", prefix: "a/" })).toBe(
      false,
    );
    const objects: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/p.*"] }],
    };
    expect(allows([objects], { action: "s3:GetObject", resource: "arn:aws:s3:::b/p./x" })).toBe(true);
    expect(allows([objects], { action: "s3:GetObject", resource: "arn:aws:s3:::b/pXx" })).toBe(false);
    expect(allows([objects], { action: "s3:GetObject", resource: "arn:aws:s3:::bb/p.x" })).toBe(false);
    expect(allows([objects], { action: "s3:PutObject", resource: "arn:aws:s3:::b/p.x" })).toBe(false);
    expect(globMatches("a?c", "abc")).toBe(true);
    expect(globMatches("a?c", "ac")).toBe(false);
    // Unmodelled shapes fail loudly instead of being evaluated wrongly.
    expect(() =>
      allows(
        [
          {
            Version: "2012-10-17",
            Statement: [{ ...statement, Condition: { StringEquals: { "s3:prefix": ["a"] } } }],
          },
        ],
        { action: "s3:ListBucket", resource: "arn:aws:s3:::b", prefix: "a" },
      ),
    ).toThrow();
    expect(() =>
      allows([{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: ["*"] }] }], {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::b/k",
      }),
    ).toThrow();
    // And the ground truth: a prefix grant covers keys under it, not beside it.
    const declared: Declared[] = [
      { grants: [{ bucket: "b", access: "read", prefixes: ["a/"] }], listAllBuckets: false },
    ];
    expect(declaredAllows(declared, "aws", { action: "s3:GetObject", resource: "arn:aws:s3:::b/a/k" })).toBe(
      true,
    );
    expect(declaredAllows(declared, "aws", { action: "s3:GetObject", resource: "arn:aws:s3:::b/a" })).toBe(
      false,
    );
    expect(declaredAllows(declared, "aws", { action: "s3:PutObject", resource: "arn:aws:s3:::b/a/k" })).toBe(
      false,
    );
  });
});
