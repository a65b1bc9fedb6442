// Properties of the access diff over compiled policies. The allowed set of a document is enumerated here from its
// statements directly (not through src/access), and the diff is read back from the JSON a reviewer's tooling gets.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { diffPolicies } from "../../src/access/access-diff.js";
import { accessLineJson, groupGrants, type AccessLineJson } from "../../src/access/access-lines.js";
import { diffDesired } from "../../src/access/manifest-change.js";
import { compileDesired, type DesiredAccess } from "../../src/desired/desired-access.js";
import type { PolicyDocument, PolicyStatement } from "../../src/desired/policy-document.js";
import type { AccessLevel, Grant } from "../../src/manifest/instance-access.js";
import { policiesEqual } from "../../src/plan/policy-equality.js";
import { stableStringify } from "../../src/util/stable-json.js";

// ---- random manifests: few buckets and prefixes, so that pairs share much and differ a little ----

const bucketPool = ["logs", "reports", "data.lake"];
const prefixPool = ["a/", "a/b/", "b/", "in/", "x y/"];
const grantArb: fc.Arbitrary<Grant> = fc
  .record({
    bucket: fc.constantFrom(...bucketPool),
    access: fc.constantFrom<AccessLevel>("read", "write", "read-write"),
    prefixes: fc.option(fc.uniqueArray(fc.constantFrom(...prefixPool), { minLength: 1, maxLength: 3 }), {
      nil: undefined,
    }),
  })
  .map(({ prefixes, ...grant }) => (prefixes === undefined ? grant : { ...grant, prefixes }));
const specArb = fc.record({
  grants: fc.array(grantArb, { minLength: 1, maxLength: 4 }),
  listAllBuckets: fc.boolean(),
});
const partitionArb = fc.constantFrom("aws", "aws-cn");

function compile(spec: { grants: Grant[]; listAllBuckets: boolean }, partition: string): DesiredAccess {
  return compileDesired(
    {
      apiVersion: "rolecall.dev/v1alpha1",
      kind: "InstanceAccess",
      metadata: { name: "m" },
      spec: { instanceSelector: { matchTags: { Team: "m" } }, ...spec },
    },
    { iamPath: "/rolecall/", partition, defaultMode: "enforce" },
  );
}

// ---- the oracle: (action, resource, condition) triples, straight from the statements ----

const asList = (value: string | readonly string[] | undefined) =>
  value === undefined ? [] : typeof value === "string" ? [value] : [...value];

function allowedSet(document: PolicyDocument): Set<string> {
  const triples = new Set<string>();
  for (const statement of document.Statement) {
    expect(statement.Effect).toBe("Allow");
    for (const action of asList(statement.Action))
      for (const resource of asList(statement.Resource))
        triples.add(triple(action, resource, statement.Condition ?? null));
  }
  return triples;
}

function triple(action: string, resource: string, condition: unknown): string {
  return stableStringify([action.toLowerCase(), resource, condition]);
}

/** The triples a list of JSON access entries names: each action of each entry, on its resource, under its condition. */
function triplesOf(entries: readonly AccessLineJson[]): string[] {
  return entries.flatMap((entry) => {
    expect(Object.keys(entry).sort()).toEqual(["actions", "condition", "resource"]);
    return entry.actions.map((action) => triple(action, entry.resource ?? "", entry.condition));
  });
}

describe("the access diff of compiled policies (property)", () => {
  it("BASE's allowed set, less the reported removals, plus the reported additions, is exactly HEAD's", () => {
    fc.assert(
      fc.property(specArb, specArb, partitionArb, (baseSpec, headSpec, partition) => {
        const base = compile(baseSpec, partition);
        const head = compile(headSpec, partition);
        const { access } = diffDesired("m", base, head);
        const added = triplesOf(groupGrants(access.added).map(accessLineJson));
        const removed = triplesOf(groupGrants(access.removed).map(accessLineJson));
        const before = allowedSet(base.policy.document);
        const after = allowedSet(head.policy.document);
        // Every reported change is a real one: no addition BASE had, no removal BASE lacked, none reported twice.
        for (const item of added) expect(before.has(item)).toBe(false);
        for (const item of removed) expect(before.has(item) && !after.has(item)).toBe(true);
        expect(new Set(added).size).toBe(added.length);
        const applied = new Set([...before].filter((item) => !removed.includes(item)));
        for (const item of added) applied.add(item);
        expect([...applied].sort()).toEqual([...after].sort());
      }),
      { numRuns: 400 },
    );
  });

  it("a manifest diffed with itself, or with a reordering of its grants, changes nothing", () => {
    fc.assert(
      fc.property(specArb, partitionArb, fc.nat(), (spec, partition, rotation) => {
        const turned = [
          ...spec.grants.slice(rotation % spec.grants.length),
          ...spec.grants.slice(0, rotation % spec.grants.length),
        ];
        const change = diffDesired(
          "m",
          compile(spec, partition),
          compile({ ...spec, grants: turned }, partition),
        );
        expect(change.change).toBe("unchanged");
      }),
      { numRuns: 200 },
    );
  });
});

// ---- hand edits that keep the meaning: what an operator (or another tool) may do to a live document ----

/** A coin to toss: the edits are random, and fast-check shrinks the tosses like any other input. */
type Coin = () => boolean;
type Edit = (document: PolicyDocument, coin: Coin) => PolicyDocument;

const caseFlip = (text: string, coin: Coin) =>
  text
    .split("")
    .map((character) => (coin() ? character.toUpperCase() : character.toLowerCase()))
    .join("");

const edits: Record<string, Edit> = {
  shuffleStatements: (document, coin) => ({
    ...document,
    Statement: [...document.Statement].sort(() => (coin() ? 1 : -1)),
  }),
  actionCase: (document, coin) => ({
    ...document,
    Statement: document.Statement.map((statement) => ({
      ...statement,
      Action: asList(statement.Action).map((action) => caseFlip(action, coin)),
    })),
  }),
  singleStrings: (document) => ({
    ...document,
    Statement: document.Statement.map((statement) => {
      const actions = asList(statement.Action);
      const resources = asList(statement.Resource);
      return {
        ...statement,
        Action: actions.length === 1 ? (actions[0] ?? "") : actions,
        ...(resources.length === 1 ? { Resource: resources[0] as unknown as string[] } : {}),
      };
    }),
  }),
  dropSids: (document) => ({
    ...document,
    Statement: document.Statement.map(({ Sid: _sid, ...statement }) => statement as PolicyStatement),
  }),
  splitPerAction: (document) => ({
    ...document,
    Statement: document.Statement.flatMap((statement) =>
      asList(statement.Action).map((action) => ({ ...statement, Action: [action] })),
    ),
  }),
  repeatValues: (document) => ({
    ...document,
    Statement: document.Statement.map((statement) => ({
      ...statement,
      Action: [...asList(statement.Action), ...asList(statement.Action)],
    })),
  }),
};

describe("hand edits that keep a document's meaning (property)", () => {
  it("report no change of access; and where policy-equality calls two documents equal, so does the diff", () => {
    fc.assert(
      fc.property(
        specArb,
        fc.subarray(Object.keys(edits), { minLength: 1 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }),
        (spec, chosen, tosses) => {
          const original = compile(spec, "aws").policy.document;
          let toss = 0;
          const coin: Coin = () => tosses[toss++ % tosses.length] === true;
          const edited = chosen.reduce((document, name) => edits[name]!(document, coin), original);
          const diff = diffPolicies(original, edited);
          expect(diff.added).toEqual([]);
          expect(diff.removed).toEqual([]);
          expect(diff.problems).toEqual({ base: [], head: [] });
          if (policiesEqual(original, edited)) expect(diffPolicies(edited, original).added).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a statement added by hand is reported as exactly its new terms", () => {
    const extraAction = fc.constantFrom("s3:PutObjectAcl", "s3:GetObject", "s3:Get*", "s3:DeleteBucket");
    const extraResource = fc.constantFrom("*", "arn:aws:s3:::logs/*", "arn:aws:s3:::logs");
    fc.assert(
      fc.property(specArb, extraAction, extraResource, (spec, action, resource) => {
        const original = compile(spec, "aws").policy.document;
        const edited = {
          ...original,
          Statement: [
            ...original.Statement,
            { Effect: "Allow" as const, Action: action, Resource: [resource] },
          ],
        };
        const diff = diffPolicies(original, edited);
        expect(diff.removed).toEqual([]);
        const known = allowedSet(original).has(triple(action, resource, null));
        expect(groupGrants(diff.added).map(accessLineJson)).toEqual(
          known ? [] : [{ resource, actions: [action], condition: null }],
        );
      }),
      { numRuns: 200 },
    );
  });
});
