// Property: whatever valid manifest comes in, the compiled policy grants exactly what was declared and no more.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileDesired } from "../../src/desired/desired-access.js";
import type { PolicyStatement } from "../../src/desired/policy-document.js";
import { listAllBucketsSid, locateAllBucketsSid, s3Actions } from "../../src/desired/s3-policy.js";
import type { AccessLevel, Grant, InstanceAccess } from "../../src/manifest/instance-access.js";
import { checkSchema } from "../../src/manifest/schema-errors.js";

// ---- generators of valid manifests ----

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789".split("");
const alnumChar = fc.constantFrom(...lowerAlnum);

/** The S3 naming rules, stated independently of the schema (checkSchema confirms both agree on what we generate). */
function isValidBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes("..") &&
    !/^\d{1,3}(\.\d{1,3}){3}$/.test(name) &&
    !/^(xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)
  );
}

const bucketName = fc
  .tuple(
    alnumChar,
    fc.array(
      fc.oneof(
        { arbitrary: alnumChar, weight: 6 },
        { arbitrary: fc.constantFrom(".", "-"), weight: 2 },
        { arbitrary: fc.constantFrom("xn--", "sthree-", "-s3alias", "--ol-s3", "192.168.0.1"), weight: 1 },
      ),
      { minLength: 1, maxLength: 40 },
    ),
    alnumChar,
  )
  .map(([first, middle, last]) => (first + middle.join("") + last).slice(0, 63))
  .filter(isValidBucketName);

/** Literal key prefixes; a small alphabet so that one prefix often contains another ("a/" and "a/b/"). */
const keyPrefix = fc
  .array(fc.constantFrom("a", "b", "/", "-", "_", ".", " ", "é", "日", "+", "="), {
    minLength: 1,
    maxLength: 5,
  })
  .map((characters) => characters.join(""));

const accessLevel = fc.constantFrom<AccessLevel>("read", "write", "read-write");

const grantsOver = (buckets: readonly string[]) =>
  fc.array(
    fc
      .record({
        bucket: fc.constantFrom(...buckets),
        access: accessLevel,
        prefixes: fc.option(fc.uniqueArray(keyPrefix, { minLength: 1, maxLength: 4 }), { nil: undefined }),
      })
      .map(({ bucket, access, prefixes }): Grant =>
        prefixes === undefined ? { bucket, access } : { bucket, access, prefixes },
      ),
    { minLength: 1, maxLength: 6 },
  );

const manifestArb = fc
  .record({
    name: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/),
    grants: fc.uniqueArray(bucketName, { minLength: 1, maxLength: 4 }).chain(grantsOver),
    listAllBuckets: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map(({ name, grants, listAllBuckets }): InstanceAccess => ({
    apiVersion: "rolecall.dev/v1alpha1",
    kind: "InstanceAccess",
    metadata: { name },
    spec: {
      instanceSelector: { instanceIds: ["i-070823c5d33601d4f"] },
      grants,
      ...(listAllBuckets === undefined ? {} : { listAllBuckets }),
    },
  }));

const partitionArb = fc.constantFrom("aws", "aws-cn", "aws-us-gov");

// ---- what a manifest declares, computed independently of the compiler ----

type Level = "read" | "write" | "delete";
/** Every key of the bucket, or the declared prefixes. */
type Scope = "all" | Set<string>;

const levelsOf: Record<AccessLevel, readonly Level[]> = {
  read: ["read"],
  write: ["write"],
  "read-write": ["read", "write", "delete"],
};
const objectActionsOf: Record<Level, readonly string[]> = {
  read: s3Actions.readObjects,
  write: s3Actions.writeObjects,
  delete: s3Actions.deleteObjects,
};
const allActions = new Set<string>(Object.values(s3Actions).flat());

function declaredScopes(grants: readonly Grant[]): Map<string, Map<Level, Scope>> {
  const scopes = new Map<string, Map<Level, Scope>>();
  for (const grant of grants) {
    const bucket = scopes.get(grant.bucket) ?? new Map<Level, Scope>();
    for (const level of levelsOf[grant.access]) {
      const current = bucket.get(level);
      if (current === "all" || grant.prefixes === undefined) bucket.set(level, "all");
      else bucket.set(level, new Set([...(current ?? []), ...grant.prefixes]));
    }
    scopes.set(grant.bucket, bucket);
  }
  return scopes;
}

const actionsOf = (statement: PolicyStatement): string[] =>
  typeof statement.Action === "string" ? [statement.Action] : [...statement.Action];

/** Splits `arn:P:s3:::bucket[/key…]` into bucket and key part (bucket names cannot contain '/'). */
function parseArn(resource: string, partition: string): { bucket: string; key: string | undefined } {
  const head = `arn:${partition}:s3:::`;
  expect(resource.startsWith(head), `${resource} is an S3 ARN in ${partition}`).toBe(true);
  const rest = resource.slice(head.length);
  const slash = rest.indexOf("/");
  return slash === -1
    ? { bucket: rest, key: undefined }
    : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

describe("compiled policies, for generated valid manifests", () => {
  it("the generator produces only schema-valid manifests", () => {
    fc.assert(
      fc.property(manifestArb, (manifest) => {
        const result = checkSchema(manifest);
        expect(result.ok ? [] : result.problems).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("grant exactly what was declared: declared resources only, fixed actions only, each at its own level", () => {
    fc.assert(
      fc.property(manifestArb, partitionArb, (manifest, partition) => {
        const { grants } = manifest.spec;
        const listAll = manifest.spec.listAllBuckets ?? false;
        const document = compileDesired(manifest, {
          iamPath: "/rolecall/",
          partition,
          defaultMode: "enforce",
        }).policy.document;
        const scopes = declaredScopes(grants);
        const bucketArn = (bucket: string) => `arn:${partition}:s3:::${bucket}`;
        const granted = new Set<string>(); // "action resource" pairs, for the completeness check below

        expect(document.Version).toBe("2012-10-17");
        for (const statement of document.Statement) {
          expect(statement.Effect).toBe("Allow");
          expect(statement.Principal).toBeUndefined();
          const actions = actionsOf(statement);
          for (const action of actions) expect(allActions.has(action), action).toBe(true);
          const resources = statement.Resource ?? [];
          expect(resources.length).toBeGreaterThan(0);
          for (const resource of resources)
            for (const action of actions) granted.add(`${action} ${resource}`);

          if (statement.Sid === listAllBucketsSid) {
            expect(listAll).toBe(true);
            expect(actions).toEqual([...s3Actions.listAllBuckets]);
            expect(resources).toEqual(["*"]);
            continue;
          }
          if (statement.Sid === locateAllBucketsSid) {
            expect(listAll).toBe(true);
            expect(actions).toEqual([...s3Actions.locateBucket]);
            expect(resources).toEqual([`arn:${partition}:s3:::*`]);
            continue;
          }
          for (const resource of resources) {
            expect(resource).not.toBe(`arn:${partition}:s3:::*`);
            const { bucket, key } = parseArn(resource, partition);
            const levels = scopes.get(bucket);
            expect(levels, `${resource} names a declared bucket`).toBeDefined();
            if (levels === undefined) continue;

            if (key === undefined) {
              // Bucket-level actions, each only for the level that needs it.
              for (const action of actions) {
                if (action === "s3:ListBucket" || action === "s3:GetBucketLocation") {
                  expect(levels.has("read"), `${action} on ${bucket} needs read`).toBe(true);
                } else {
                  expect(action).toBe("s3:ListBucketMultipartUploads");
                  expect(levels.has("write"), `${action} on ${bucket} needs write`).toBe(true);
                }
              }
              continue;
            }
            // Object-level actions: the resource is the whole bucket or a prefix declared at that very level.
            expect(key.endsWith("*"), resource).toBe(true);
            const prefix = key.slice(0, -1);
            expect(statement.Condition).toBeUndefined();
            for (const action of actions) {
              const level = (["read", "write", "delete"] as const).find((candidate) =>
                objectActionsOf[candidate].includes(action),
              );
              expect(level, `${action} is an object action`).toBeDefined();
              const scope = level === undefined ? undefined : levels.get(level);
              expect(scope, `${action} on ${bucket} was declared`).toBeDefined();
              if (prefix === "") expect(scope, `${action} on all of ${bucket}`).toBe("all");
              else expect(scope !== "all" && scope?.has(prefix), `${action} on ${resource}`).toBe(true);
            }
          }

          if (statement.Condition !== undefined) {
            expect(actions).toEqual(["s3:ListBucket"]);
            expect(resources).toHaveLength(1);
          }
        }

        // ListBucket on a bucket readable only under prefixes: always the s3:prefix condition, with exactly the
        // declared prefixes (each as p and p*; a prefix inside another declared one is already covered by it).
        for (const [bucket, levels] of scopes) {
          const read = levels.get("read");
          const lists = document.Statement.filter(
            (statement) =>
              actionsOf(statement).includes("s3:ListBucket") &&
              statement.Resource?.includes(bucketArn(bucket)),
          );
          if (read === undefined) {
            expect(lists).toEqual([]);
          } else if (read === "all") {
            expect(lists).toHaveLength(1);
            expect(lists[0]?.Condition).toBeUndefined();
          } else {
            expect(lists).toHaveLength(1);
            const declared = [...read];
            const outermost = declared.filter(
              (prefix) => !declared.some((other) => other !== prefix && prefix.startsWith(other)),
            );
            expect(lists[0]?.Condition).toEqual({
              StringLike: { "s3:prefix": outermost.sort().flatMap((prefix) => [prefix, `${prefix}*`]) },
            });
          }
        }

        // And nothing declared is missing.
        for (const [bucket, levels] of scopes) {
          for (const [level, scope] of levels) {
            for (const action of objectActionsOf[level]) {
              if (scope === "all") {
                expect(granted.has(`${action} ${bucketArn(bucket)}/*`), `${action} on ${bucket}`).toBe(true);
              } else {
                for (const prefix of scope) {
                  const covered = [...scope].some(
                    (outer) =>
                      prefix.startsWith(outer) && granted.has(`${action} ${bucketArn(bucket)}/${outer}*`),
                  );
                  expect(covered, `${action} on ${bucket}/${prefix}`).toBe(true);
                }
              }
            }
          }
          if (levels.has("read")) expect(granted.has(`s3:GetBucketLocation ${bucketArn(bucket)}`)).toBe(true);
          if (levels.has("write"))
            expect(granted.has(`s3:ListBucketMultipartUploads ${bucketArn(bucket)}`)).toBe(true);
        }
        expect(granted.has("s3:ListAllMyBuckets *")).toBe(listAll);
        expect(granted.has(`s3:GetBucketLocation arn:${partition}:s3:::*`)).toBe(listAll);
      }),
      { numRuns: 300 },
    );
  });

  it("are byte-identical for the same grants in any order", () => {
    fc.assert(
      fc.property(manifestArb, fc.nat(), (manifest, rotation) => {
        const grants = manifest.spec.grants;
        const shift = rotation % grants.length;
        const reordered = [...grants.slice(shift), ...grants.slice(0, shift)]
          .reverse()
          .map((grant): Grant =>
            grant.prefixes === undefined ? grant : { ...grant, prefixes: [...grant.prefixes].reverse() },
          );
        const options = { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" } as const;
        const once = JSON.stringify(compileDesired(manifest, options).policy.document);
        expect(JSON.stringify(compileDesired(structuredClone(manifest), options).policy.document)).toBe(once);
        const other = { ...manifest, spec: { ...manifest.spec, grants: reordered } };
        expect(JSON.stringify(compileDesired(other, options).policy.document)).toBe(once);
      }),
      { numRuns: 200 },
    );
  });
});
