import { describe, expect, it } from "vitest";
import type { PolicyDocument, PolicyStatement } from "../../src/desired/policy-document.js";
import {
  compileS3Policy,
  listAllBucketsSid,
  locateAllBucketsSid,
  s3Actions,
} from "../../src/desired/s3-policy.js";
import { readManifestFile } from "../../src/fs/read-manifest-files.js";
import type { Grant } from "../../src/manifest/instance-access.js";
import { loadManifestSet } from "../../src/manifest-set/load-manifest-set.js";

const statement = (document: PolicyDocument, sid: string): PolicyStatement | undefined =>
  document.Statement.find((candidate) => candidate.Sid === sid);

const sids = (document: PolicyDocument) => document.Statement.map((candidate) => candidate.Sid);

describe("the seed manifest (manifests/dev-s3-read.yaml)", () => {
  it("compiles to exactly this policy document", async () => {
    const set = loadManifestSet([await readManifestFile("manifests/dev-s3-read.yaml")], {
      iamPath: "/rolecall/",
      partition: "aws",
      defaultMode: "enforce",
    });
    expect(set.errors).toEqual([]);
    const desired = set.manifests[0]!.desired;
    expect(desired.policy.name).toBe("DevS3ReadAccess");
    // The seed's console statement, then least-privilege reads of my-dev-bucket instead of its s3:Get* / s3:List*.
    expect(JSON.stringify(desired.policy.document, null, 2)).toBe(
      JSON.stringify(
        {
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AllowUserToSeeBucketListInTheConsole",
              Effect: "Allow",
              Action: ["s3:ListAllMyBuckets"],
              Resource: ["*"],
            },
            {
              Sid: "LocateEveryBucketForTheConsole",
              Effect: "Allow",
              Action: ["s3:GetBucketLocation"],
              Resource: ["arn:aws:s3:::*"],
            },
            {
              Sid: "ReadObjects",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:GetObjectVersion"],
              Resource: ["arn:aws:s3:::my-dev-bucket/*"],
            },
            {
              Sid: "ListBuckets",
              Effect: "Allow",
              Action: ["s3:ListBucket"],
              Resource: ["arn:aws:s3:::my-dev-bucket"],
            },
            {
              Sid: "LocateBuckets",
              Effect: "Allow",
              Action: ["s3:GetBucketLocation"],
              Resource: ["arn:aws:s3:::my-dev-bucket"],
            },
          ],
        },
        null,
        2,
      ),
    );
  });
});

describe("compileS3Policy: actions per access level", () => {
  const whole = (access: Grant["access"]): PolicyDocument =>
    compileS3Policy([{ bucket: "b1", access }], false, "aws");

  it("read: get objects (and their versions), list and locate the bucket; nothing else", () => {
    expect(whole("read").Statement).toEqual([
      {
        Sid: "ReadObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: ["arn:aws:s3:::b1/*"],
      },
      { Sid: "ListBuckets", Effect: "Allow", Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::b1"] },
      {
        Sid: "LocateBuckets",
        Effect: "Allow",
        Action: ["s3:GetBucketLocation"],
        Resource: ["arn:aws:s3:::b1"],
      },
    ]);
  });

  it("write: put objects and manage multipart uploads; no reading, listing objects or deleting", () => {
    expect(whole("write").Statement).toEqual([
      {
        Sid: "WriteObjects",
        Effect: "Allow",
        Action: ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"],
        Resource: ["arn:aws:s3:::b1/*"],
      },
      {
        Sid: "ListMultipartUploads",
        Effect: "Allow",
        Action: ["s3:ListBucketMultipartUploads"],
        Resource: ["arn:aws:s3:::b1"],
      },
    ]);
  });

  it("read-write: both, plus delete", () => {
    const document = whole("read-write");
    expect(sids(document)).toEqual([
      "ReadObjects",
      "WriteObjects",
      "DeleteObjects",
      "ListBuckets",
      "LocateBuckets",
      "ListMultipartUploads",
    ]);
    expect(statement(document, "DeleteObjects")).toEqual({
      Sid: "DeleteObjects",
      Effect: "Allow",
      Action: ["s3:DeleteObject"],
      Resource: ["arn:aws:s3:::b1/*"],
    });
    const actions = document.Statement.flatMap((candidate) => candidate.Action);
    expect(new Set(actions)).toEqual(
      new Set([
        ...s3Actions.readObjects,
        ...s3Actions.readBucket,
        ...s3Actions.locateBucket,
        ...s3Actions.writeObjects,
        ...s3Actions.writeBucket,
        ...s3Actions.deleteObjects,
      ]),
    );
  });

  it("are the fixed action sets the Foundation issue specifies", () => {
    expect(s3Actions).toEqual({
      readObjects: ["s3:GetObject", "s3:GetObjectVersion"],
      readBucket: ["s3:ListBucket"],
      locateBucket: ["s3:GetBucketLocation"],
      writeObjects: ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"],
      writeBucket: ["s3:ListBucketMultipartUploads"],
      deleteObjects: ["s3:DeleteObject"],
      listAllBuckets: ["s3:ListAllMyBuckets"],
    });
  });

  it("adds the console statements only when listAllBuckets is true: ListAllMyBuckets on *, the location of every bucket", () => {
    const withList = compileS3Policy([{ bucket: "b1", access: "write" }], true, "aws");
    // s3:ListAllMyBuckets has no resource type, so "*" is the resource linters accept for it.
    expect(withList.Statement.slice(0, 2)).toEqual([
      { Sid: listAllBucketsSid, Effect: "Allow", Action: ["s3:ListAllMyBuckets"], Resource: ["*"] },
      {
        Sid: locateAllBucketsSid,
        Effect: "Allow",
        Action: ["s3:GetBucketLocation"],
        Resource: ["arn:aws:s3:::*"],
      },
    ]);
    const without = whole("write");
    expect(JSON.stringify(without)).not.toContain("arn:aws:s3:::*");
    expect(JSON.stringify(without)).not.toContain("ListAllMyBuckets");
  });
});

describe("compileS3Policy: prefixes", () => {
  it("scopes objects to the prefixes and lists the bucket only under them (s3:prefix StringLike)", () => {
    const document = compileS3Policy(
      [{ bucket: "b1", access: "read", prefixes: ["reports/", "exports/daily/"] }],
      false,
      "aws",
    );
    expect(document.Statement).toEqual([
      {
        Sid: "ReadObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: ["arn:aws:s3:::b1/exports/daily/*", "arn:aws:s3:::b1/reports/*"],
      },
      {
        Sid: "ListBucketUnderPrefixes1",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: ["arn:aws:s3:::b1"],
        Condition: {
          StringLike: { "s3:prefix": ["exports/daily/", "exports/daily/*", "reports/", "reports/*"] },
        },
      },
      {
        Sid: "LocateBuckets",
        Effect: "Allow",
        Action: ["s3:GetBucketLocation"],
        Resource: ["arn:aws:s3:::b1"],
      },
    ]);
  });

  it("never lists a prefix-only bucket without the condition", () => {
    const document = compileS3Policy(
      [
        { bucket: "whole", access: "read" },
        { bucket: "scoped", access: "read", prefixes: ["a/"] },
      ],
      false,
      "aws",
    );
    expect(statement(document, "ListBuckets")?.Resource).toEqual(["arn:aws:s3:::whole"]);
    expect(statement(document, "ListBucketUnderPrefixes1")).toMatchObject({
      Resource: ["arn:aws:s3:::scoped"],
      Condition: { StringLike: { "s3:prefix": ["a/", "a/*"] } },
    });
  });

  it("drops a prefix another declared prefix already covers", () => {
    const document = compileS3Policy(
      [{ bucket: "b1", access: "read", prefixes: ["logs/app/", "logs/", "logs/app/2024/"] }],
      false,
      "aws",
    );
    expect(statement(document, "ReadObjects")?.Resource).toEqual(["arn:aws:s3:::b1/logs/*"]);
    expect(statement(document, "ListBucketUnderPrefixes1")?.Condition).toEqual({
      StringLike: { "s3:prefix": ["logs/", "logs/*"] },
    });
  });

  it("scopes write-only prefixes without granting any listing", () => {
    const document = compileS3Policy([{ bucket: "b1", access: "write", prefixes: ["in/"] }], false, "aws");
    expect(statement(document, "WriteObjects")?.Resource).toEqual(["arn:aws:s3:::b1/in/*"]);
    expect(JSON.stringify(document)).not.toContain('s3:ListBucket"');
    expect(JSON.stringify(document)).not.toContain("s3:prefix");
  });
});

describe("compileS3Policy: several grants on one bucket", () => {
  it("merges levels: read on prefixes plus write on the whole bucket", () => {
    const document = compileS3Policy(
      [
        { bucket: "b1", access: "read", prefixes: ["r/"] },
        { bucket: "b1", access: "write" },
      ],
      false,
      "aws",
    );
    expect(statement(document, "ReadObjects")?.Resource).toEqual(["arn:aws:s3:::b1/r/*"]);
    expect(statement(document, "WriteObjects")?.Resource).toEqual(["arn:aws:s3:::b1/*"]);
    expect(statement(document, "DeleteObjects")).toBeUndefined();
    expect(statement(document, "ListBucketUnderPrefixes1")?.Resource).toEqual(["arn:aws:s3:::b1"]);
    expect(statement(document, "ListBuckets")).toBeUndefined();
  });

  it("unions prefixes of the same level, and a whole-bucket grant absorbs them", () => {
    const unioned = compileS3Policy(
      [
        { bucket: "b1", access: "read", prefixes: ["a/"] },
        { bucket: "b1", access: "read-write", prefixes: ["b/"] },
      ],
      false,
      "aws",
    );
    expect(statement(unioned, "ReadObjects")?.Resource).toEqual([
      "arn:aws:s3:::b1/a/*",
      "arn:aws:s3:::b1/b/*",
    ]);
    expect(statement(unioned, "WriteObjects")?.Resource).toEqual(["arn:aws:s3:::b1/b/*"]);
    expect(statement(unioned, "DeleteObjects")?.Resource).toEqual(["arn:aws:s3:::b1/b/*"]);

    const absorbed = compileS3Policy(
      [
        { bucket: "b1", access: "read", prefixes: ["a/"] },
        { bucket: "b1", access: "read" },
      ],
      false,
      "aws",
    );
    expect(statement(absorbed, "ReadObjects")?.Resource).toEqual(["arn:aws:s3:::b1/*"]);
    expect(statement(absorbed, "ListBuckets")?.Resource).toEqual(["arn:aws:s3:::b1"]);
    expect(JSON.stringify(absorbed)).not.toContain("s3:prefix");
  });

  it("names each bucket once per statement, sorted", () => {
    const document = compileS3Policy(
      [
        { bucket: "zeta", access: "read" },
        { bucket: "alpha", access: "read" },
        { bucket: "zeta", access: "read" },
      ],
      false,
      "aws",
    );
    expect(statement(document, "ReadObjects")?.Resource).toEqual([
      "arn:aws:s3:::alpha/*",
      "arn:aws:s3:::zeta/*",
    ]);
  });

  it("numbers the conditional list statements per prefix-scoped bucket, in bucket order", () => {
    const document = compileS3Policy(
      [
        { bucket: "b2", access: "read", prefixes: ["x/"] },
        { bucket: "b1", access: "read", prefixes: ["y/"] },
      ],
      false,
      "aws",
    );
    expect(
      document.Statement.filter((candidate) => candidate.Condition !== undefined).map((candidate) => [
        candidate.Sid,
        candidate.Resource,
      ]),
    ).toEqual([
      ["ListBucketUnderPrefixes1", ["arn:aws:s3:::b1"]],
      ["ListBucketUnderPrefixes2", ["arn:aws:s3:::b2"]],
    ]);
  });
});

describe("compileS3Policy: determinism and partitions", () => {
  const grants: Grant[] = [
    { bucket: "b2", access: "read-write", prefixes: ["q/", "p/"] },
    { bucket: "b1", access: "read" },
    { bucket: "b2", access: "read", prefixes: ["z/"] },
  ];

  it("gives byte-identical JSON for the same input", () => {
    const first = JSON.stringify(compileS3Policy(grants, true, "aws"));
    const second = JSON.stringify(compileS3Policy(structuredClone(grants), true, "aws"));
    expect(second).toBe(first);
  });

  it("does not depend on the order of grants or of prefixes", () => {
    const reordered: Grant[] = [
      { bucket: "b2", access: "read", prefixes: ["z/"] },
      { bucket: "b1", access: "read" },
      { bucket: "b2", access: "read-write", prefixes: ["p/", "q/"] },
    ];
    expect(JSON.stringify(compileS3Policy(reordered, true, "aws"))).toBe(
      JSON.stringify(compileS3Policy(grants, true, "aws")),
    );
  });

  it("does not change its input", () => {
    const input = structuredClone(grants);
    compileS3Policy(input, true, "aws");
    expect(input).toEqual(grants);
  });

  it.each(["aws-cn", "aws-us-gov"])("writes every ARN in the %s partition", (partition) => {
    const document = compileS3Policy(grants, true, partition);
    // "*" (s3:ListAllMyBuckets) is the one resource without a partition.
    const resources = document.Statement.flatMap((candidate) => candidate.Resource ?? []).filter(
      (resource) => resource !== "*",
    );
    expect(resources.length).toBeGreaterThan(0);
    expect(resources.every((resource) => resource.startsWith(`arn:${partition}:s3:::`))).toBe(true);
    expect(resources).toContain(`arn:${partition}:s3:::*`);
    expect(resources).toContain(`arn:${partition}:s3:::b2/p/*`);
    expect(JSON.stringify(document)).not.toContain("arn:aws:");
  });
});
