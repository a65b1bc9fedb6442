import { describe, expect, it } from "vitest";
import { accessOf } from "../../src/explain/access-entries.js";
import { desiredFor } from "../support/desired-fixtures.js";

const source = (name: string, document: unknown, manifest?: string) => ({ name, document, manifest });

describe("accessOf: access levels from policy documents", () => {
  it("reads a compiled policy back as the levels it was compiled from, per bucket and prefix", () => {
    const desired = desiredFor("etl", {
      grants: [
        { bucket: "raw", access: "read", prefixes: ["in/"] },
        { bucket: "out", access: "read-write" },
        { bucket: "logs", access: "write" },
      ],
    });
    const view = accessOf([source("rolecall-etl", desired.policy.document, "etl")]);
    expect(
      view.entries.map(({ bucket, prefix, access, manifests }) => ({ bucket, prefix, access, manifests })),
    ).toEqual([
      { bucket: "logs", prefix: null, access: "write", manifests: ["etl"] },
      { bucket: "out", prefix: null, access: "read-write", manifests: ["etl"] },
      { bucket: "raw", prefix: "in/", access: "read", manifests: ["etl"] },
    ]);
    expect(view.notes).toEqual([]);
  });

  it("a hand-made policy: wildcards count, odd mixes are shown apart, and what levels cannot say is noted", () => {
    const view = accessOf([
      source("hand-made", {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "s3:Get*", Resource: "arn:aws:s3:::b/*" },
          { Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::b/*" },
          { Effect: "Allow", Action: "ec2:RunInstances", Resource: "*" },
          { Effect: "Deny", Action: "s3:DeleteObject", Resource: "*" },
        ],
      }),
    ]);
    expect(view.entries.map((entry) => [entry.bucket, entry.access])).toEqual([
      ["b", "read"],
      ["b", "write"],
    ]);
    expect(view.notes.join("\n")).toContain("ec2:RunInstances");
    expect(view.notes.join("\n")).toContain("denies");
  });

  it("s3:* on * reaches every bucket", () => {
    const view = accessOf([
      source("admin", {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
      }),
    ]);
    expect(view.entries).toEqual([
      expect.objectContaining({ bucket: "*", prefix: null, access: "read-write", actions: ["s3:*"] }),
    ]);
  });
});
