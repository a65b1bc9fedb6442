import { describe, expect, it } from "vitest";
import { loadManifestSet } from "../../src/manifest-set/load-manifest-set.js";
import {
  checkSchema,
  joinPointer,
  splitPointer,
  type SchemaProblem,
} from "../../src/manifest/schema-errors.js";

type Json = Record<string, unknown>;

function seed(): Json {
  return {
    apiVersion: "rolecall.dev/v1alpha1",
    kind: "InstanceAccess",
    metadata: { name: "dev-s3-read", labels: { team: "dev" } },
    spec: {
      instanceSelector: { instanceIds: ["i-070823c5d33601d4f"] },
      grants: [{ bucket: "my-dev-bucket", access: "read" }],
      listAllBuckets: true,
      iam: { policyName: "DevS3ReadAccess", roleName: "DEV_ROLE", instanceProfileName: "DEV_PROFILE" },
    },
  };
}

/** The seed with one change applied to a copy. */
function seedWith(change: (manifest: Json & { metadata: Json; spec: Json }) => void): Json {
  const manifest = structuredClone(seed()) as Json & { metadata: Json; spec: Json };
  change(manifest);
  return manifest;
}

function problemsOf(value: unknown): SchemaProblem[] {
  const result = checkSchema(value);
  if (result.ok) throw new Error("expected schema problems, got a valid manifest");
  return result.problems;
}

const summary = (problems: readonly SchemaProblem[]) =>
  problems.map((problem) => `${joinPointer(problem.displayPath)}: ${problem.message}`);

describe("checkSchema", () => {
  it("accepts the seed manifest and returns it as the typed manifest", () => {
    const result = checkSchema(seed());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.manifest.spec.iam?.roleName).toBe("DEV_ROLE");
  });

  it("reports every problem at once, not only the first", () => {
    const problems = problemsOf(
      seedWith((m) => {
        m.kind = "Other";
        m.metadata.name = "UPPER";
        m.spec.mode = "sometimes";
      }),
    );
    expect(summary(problems)).toEqual([
      '/kind: must be "InstanceAccess"; got "Other"',
      "/metadata/name: must be a lowercase DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit",
      '/spec/mode: must be one of enforce, observe; got "sometimes"',
    ]);
  });
});

describe("schema messages", () => {
  it("names a missing field under its parent, pointing at the parent's key", () => {
    const problems = problemsOf(seedWith((m) => delete m.spec.grants));
    expect(problems).toEqual([
      {
        path: ["spec"],
        displayPath: ["spec", "grants"],
        prefer: "key",
        message: 'missing required field "grants"',
      },
    ]);
  });

  it("suggests the closest field for a typo", () => {
    const problems = problemsOf(
      seedWith((m) => {
        m.spec.grants = [{ bucket: "my-dev-bucket", acess: "read" }];
        m.spec.listAllBucket = true;
        delete m.spec.listAllBuckets;
        m.metadata.lables = {};
      }),
    );
    expect(summary(problems)).toEqual(
      expect.arrayContaining([
        '/metadata/lables: unknown field "lables" (did you mean "labels"?)',
        '/spec/grants/0/acess: unknown field "acess" (did you mean "access"?)',
        '/spec/listAllBucket: unknown field "listAllBucket" (did you mean "listAllBuckets"?)',
      ]),
    );
    const unknown = problems.find((problem) => problem.message.startsWith('unknown field "acess"'));
    expect(unknown).toMatchObject({ path: ["spec", "grants", "0", "acess"], prefer: "key" });
  });

  it("lists the allowed fields when nothing is close", () => {
    expect(summary(problemsOf(seedWith((m) => (m.status = {}))))).toEqual([
      '/status: unknown field "status" (allowed: apiVersion, kind, metadata, spec)',
    ]);
  });

  it("suggests the closest allowed value for an enum typo, and nothing when none is close", () => {
    const problems = problemsOf(
      seedWith((m) => {
        m.spec.grants = [
          { bucket: "a-bucket", access: "raed" },
          { bucket: "b-bucket", access: "READ-WRITE" },
          { bucket: "c-bucket", access: "everything" },
        ];
      }),
    );
    expect(summary(problems)).toEqual([
      '/spec/grants/0/access: must be one of read, write, read-write; got "raed" (did you mean "read"?)',
      '/spec/grants/1/access: must be one of read, write, read-write; got "READ-WRITE" (did you mean "read-write"?)',
      '/spec/grants/2/access: must be one of read, write, read-write; got "everything"',
    ]);
  });

  it("describes type errors in YAML terms (mapping, list) and shows what was found", () => {
    const problems = problemsOf(
      seedWith((m) => {
        (m as Json).metadata = "dev";
        m.spec.grants = { bucket: "my-dev-bucket" };
        m.spec.listAllBuckets = "yes";
        m.spec.adopt = null;
      }),
    );
    expect(summary(problems)).toEqual([
      '/metadata: must be a mapping; got string "dev"',
      "/spec/grants: must be a list; got a mapping",
      '/spec/listAllBuckets: must be a boolean; got string "yes"',
      "/spec/adopt: must be a boolean; got null",
    ]);
  });

  it("reports a wrong bucket type once, although every bucket rule checks the type", () => {
    const problems = problemsOf(seedWith((m) => (m.spec.grants = [{ bucket: 12345, access: "read" }])));
    expect(summary(problems)).toEqual(["/spec/grants/0/bucket: must be a string; got number 12345"]);
  });

  it("uses the schema's own wording for pattern rules", () => {
    const problems = problemsOf(
      seedWith((m) => {
        m.spec.grants = [{ bucket: "my_bucket", access: "read", prefixes: ["ok/", "a*b"] }];
        m.spec.instanceSelector = { instanceIds: ["i-123"] };
      }),
    );
    expect(summary(problems)).toEqual([
      "/spec/instanceSelector/instanceIds/0: must be an EC2 instance ID: 'i-' followed by 8 or 17 lowercase hex digits",
      "/spec/grants/0/bucket: bucket names use only lowercase letters, digits, '.' and '-'",
      "/spec/grants/0/prefixes/1: prefixes are literal key prefixes: no '*', '?', '$' or control characters",
    ]);
  });

  it("rejects control characters in prefixes", () => {
    const problems = problemsOf(
      seedWith(
        (m) => (m.spec.grants = [{ bucket: "b-1", access: "read", prefixes: ["a\u0000b", "tab\there"] }]),
      ),
    );
    expect(problems.map((problem) => joinPointer(problem.displayPath))).toEqual([
      "/spec/grants/0/prefixes/0",
      "/spec/grants/0/prefixes/1",
    ]);
  });

  it("says how long a too-long value is", () => {
    const problems = problemsOf(seedWith((m) => (m.spec.iam = { policyName: "p".repeat(129) })));
    expect(summary(problems)).toEqual(["/spec/iam/policyName: must be at most 128 characters long; got 129"]);
  });

  it("explains an empty selector with the schema's message", () => {
    const problems = problemsOf(seedWith((m) => (m.spec.instanceSelector = {})));
    expect(summary(problems)).toEqual([
      "/spec/instanceSelector: must select instances with instanceIds, matchTags or both",
    ]);
  });

  it("names a bad map key itself, pointing at the key", () => {
    const problems = problemsOf(
      seedWith((m) => {
        m.spec.instanceSelector = { matchTags: { "aws:cloudformation:stack-name": "x" } };
        m.metadata.labels = { "bad key!": "x" };
      }),
    );
    expect(problems).toEqual([
      {
        path: ["metadata", "labels", "bad key!"],
        displayPath: ["metadata", "labels", "bad key!"],
        prefer: "key",
        message:
          "key \"bad key!\" is not allowed: label keys follow Kubernetes rules: an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.'",
      },
      {
        path: ["spec", "instanceSelector", "matchTags", "aws:cloudformation:stack-name"],
        displayPath: ["spec", "instanceSelector", "matchTags", "aws:cloudformation:stack-name"],
        prefer: "key",
        message:
          "key \"aws:cloudformation:stack-name\" is not allowed: tag keys starting with 'aws:' are reserved by AWS",
      },
    ]);
  });

  it("points a duplicate list item at the repeat and names the original", () => {
    const problems = problemsOf(
      seedWith(
        (m) => (m.spec.instanceSelector = { instanceIds: ["i-11111111", "i-22222222", "i-11111111"] }),
      ),
    );
    expect(summary(problems)).toEqual([
      "/spec/instanceSelector/instanceIds/2: duplicate item: same as item 0",
    ]);
  });

  it("does not report the same problem twice", () => {
    const problems = problemsOf(seedWith((m) => (m.spec.grants = [{ bucket: "Xx", access: "read" }])));
    const keys = summary(problems);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("JSON pointers", () => {
  it.each([
    [[], ""],
    [["spec", "grants", "0"], "/spec/grants/0"],
    [["metadata", "labels", "example.com/team"], "/metadata/labels/example.com~1team"],
    [["a~b"], "/a~0b"],
    [["~1"], "/~01"],
    [["/~"], "/~1~0"],
    [[""], "/"],
  ])("%j joins to %j and splits back", (segments, pointer) => {
    expect(joinPointer(segments)).toBe(pointer);
    expect(splitPointer(pointer)).toEqual(segments);
  });

  it("escapes the pointer the loader reports for a key containing '/' and '~'", () => {
    const text = [
      "apiVersion: rolecall.dev/v1alpha1",
      "kind: InstanceAccess",
      "metadata:",
      "  name: pointers",
      "  labels:",
      `    example.com/owner~1: "${"x".repeat(64)}"`,
      "spec:",
      "  instanceSelector: {instanceIds: [i-070823c5d33601d4f]}",
      "  grants: [{bucket: my-dev-bucket, access: read}]",
    ].join("\n");
    const set = loadManifestSet([{ file: "p.yaml", bytes: Buffer.from(text) }], {
      iamPath: "/rolecall/",
      partition: "aws",
      defaultMode: "enforce",
    });
    expect(set.errors.map((error) => [error.line, error.column, error.pointer])).toEqual([
      [6, 5, "/metadata/labels/example.com~1owner~01"],
      [6, 26, "/metadata/labels/example.com~1owner~01"],
    ]);
    expect(set.errors.map((error) => error.message)).toEqual([
      expect.stringContaining("is not allowed: label keys follow Kubernetes rules"),
      "must be at most 63 characters long; got 64",
    ]);
  });
});
