import { describe, expect, it } from "vitest";
import { compileDesired, selects, type CompileOptions } from "../../src/desired/desired-access.js";
import { defaultIamName, iamNameKey } from "../../src/desired/iam-names.js";
import { manifestFromPolicyDescription, ownershipTags, readOwnership } from "../../src/desired/ownership.js";
import { compileS3Policy } from "../../src/desired/s3-policy.js";
import type { InstanceAccess } from "../../src/manifest/instance-access.js";

const options: CompileOptions = { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" };

function manifest(spec: Partial<InstanceAccess["spec"]> = {}, name = "team-data"): InstanceAccess {
  return {
    apiVersion: "rolecall.dev/v1alpha1",
    kind: "InstanceAccess",
    metadata: { name },
    spec: {
      instanceSelector: { matchTags: { Team: "data" } },
      grants: [{ bucket: "team-data-bucket", access: "read" }],
      ...spec,
    },
  };
}

describe("compileDesired: defaults", () => {
  const desired = compileDesired(manifest(), options);

  it("names the policy, role and instance profile rolecall-<metadata.name>", () => {
    expect(defaultIamName("team-data")).toBe("rolecall-team-data");
    expect([desired.policy.name, desired.role.name, desired.instanceProfile.name]).toEqual([
      "rolecall-team-data",
      "rolecall-team-data",
      "rolecall-team-data",
    ]);
  });

  it("puts everything under the IAM path it is given", () => {
    expect([desired.policy.path, desired.role.path, desired.instanceProfile.path]).toEqual([
      "/rolecall/",
      "/rolecall/",
      "/rolecall/",
    ]);
    const elsewhere = compileDesired(manifest(), { ...options, iamPath: "/platform/access/" });
    expect([elsewhere.policy.path, elsewhere.role.path, elsewhere.instanceProfile.path]).toEqual([
      "/platform/access/",
      "/platform/access/",
      "/platform/access/",
    ]);
  });

  it("defaults adopt, onConflict, deletionPolicy and mode", () => {
    expect(desired).toMatchObject({
      manifest: "team-data",
      adopt: false,
      onConflict: "skip",
      deletionPolicy: "delete",
      mode: "enforce",
    });
    expect(compileDesired(manifest(), { ...options, defaultMode: "observe" }).mode).toBe("observe");
  });

  it("tags what it creates with its owner and deletion policy", () => {
    expect(desired.tags).toEqual({
      "rolecall.dev/managed-by": "rolecall",
      "rolecall.dev/manifest": "team-data",
      "rolecall.dev/deletion-policy": "delete",
    });
    expect(compileDesired(manifest({ deletionPolicy: "retain" }), options).tags).toEqual(
      ownershipTags("team-data", "retain"),
    );
  });

  it("lets EC2, and only EC2, assume the role, as in the seed's trust policy", () => {
    expect(desired.role.trustPolicy).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
  });

  it("marks the policy description with the owning manifest", () => {
    expect(manifestFromPolicyDescription(desired.policy.description)).toBe("team-data");
    expect(manifestFromPolicyDescription("hand-written policy")).toBeUndefined();
    expect(manifestFromPolicyDescription(undefined)).toBeUndefined();
  });

  it("compiles the grants into the policy document", () => {
    expect(desired.policy.document).toEqual(
      compileS3Policy([{ bucket: "team-data-bucket", access: "read" }], false, "aws"),
    );
  });
});

describe("compileDesired: explicit settings", () => {
  it("uses explicit IAM names, each on its own", () => {
    const desired = compileDesired(manifest({ iam: { roleName: "DEV_ROLE" } }), options);
    expect([desired.policy.name, desired.role.name, desired.instanceProfile.name]).toEqual([
      "rolecall-team-data",
      "DEV_ROLE",
      "rolecall-team-data",
    ]);
  });

  it("takes adopt, onConflict, deletionPolicy and mode from the manifest over the defaults", () => {
    const desired = compileDesired(
      manifest({ adopt: true, onConflict: "replace", deletionPolicy: "retain", mode: "observe" }),
      options,
    );
    expect(desired).toMatchObject({
      adopt: true,
      onConflict: "replace",
      deletionPolicy: "retain",
      mode: "observe",
    });
    expect(desired.tags["rolecall.dev/deletion-policy"]).toBe("retain");
  });

  it("compiles ARNs in the partition it is given", () => {
    const desired = compileDesired(manifest({ listAllBuckets: true }), { ...options, partition: "aws-cn" });
    const resources = desired.policy.document.Statement.flatMap((statement) => statement.Resource ?? []);
    expect(resources).toContain("arn:aws-cn:s3:::*");
    expect(resources).toContain("arn:aws-cn:s3:::team-data-bucket/*");
  });

  it("sorts instance IDs and copies the tags, so the selector is independent of the manifest object", () => {
    const source = manifest({
      instanceSelector: { instanceIds: ["i-bbbbbbbb", "i-aaaaaaaa"], matchTags: { Env: "dev" } },
    });
    const desired = compileDesired(source, options);
    expect(desired.selector).toEqual({
      instanceIds: ["i-aaaaaaaa", "i-bbbbbbbb"],
      matchTags: { Env: "dev" },
    });
    expect(source.spec.instanceSelector.instanceIds).toEqual(["i-bbbbbbbb", "i-aaaaaaaa"]);
  });

  it("gives identical output for identical manifests", () => {
    const source = manifest({ listAllBuckets: true, iam: { policyName: "P" } });
    expect(JSON.stringify(compileDesired(source, options))).toBe(
      JSON.stringify(compileDesired(structuredClone(source), options)),
    );
  });
});

describe("selects", () => {
  const byTags = compileDesired(
    manifest({ instanceSelector: { matchTags: { Team: "data", Env: "prod" } } }),
    options,
  ).selector;
  const byIds = compileDesired(
    manifest({ instanceSelector: { instanceIds: ["i-0123456789abcdef0"] } }),
    options,
  ).selector;
  const both = compileDesired(
    manifest({ instanceSelector: { instanceIds: ["i-11111111"], matchTags: { Team: "data" } } }),
    options,
  ).selector;

  it("selects an instance that carries every tag with exactly that value", () => {
    expect(selects(byTags, "i-99999999", { Team: "data", Env: "prod", Other: "x" })).toBe(true);
  });

  it("does not select an instance missing a tag, or with another value (values are case-sensitive)", () => {
    expect(selects(byTags, "i-99999999", { Team: "data" })).toBe(false);
    expect(selects(byTags, "i-99999999", { Team: "data", Env: "Prod" })).toBe(false);
    expect(selects(byTags, "i-99999999", { team: "data", env: "prod" })).toBe(false);
    expect(selects(byTags, "i-99999999", {})).toBe(false);
  });

  it("selects listed instance IDs whatever their tags, and only those", () => {
    expect(selects(byIds, "i-0123456789abcdef0", {})).toBe(true);
    expect(selects(byIds, "i-0123456789abcdef1", { Team: "data", Env: "prod" })).toBe(false);
  });

  it("never selects everything: without matchTags, tags select nothing", () => {
    expect(byIds.matchTags).toEqual({});
    expect(selects(byIds, "i-22222222", {})).toBe(false);
  });

  it("selects the union when both IDs and tags are given", () => {
    expect(selects(both, "i-11111111", {})).toBe(true);
    expect(selects(both, "i-22222222", { Team: "data" })).toBe(true);
    expect(selects(both, "i-22222222", { Team: "ops" })).toBe(false);
  });
});

describe("ownership tags", () => {
  it("read back what ownershipTags writes", () => {
    expect(readOwnership(ownershipTags("team-data", "delete"))).toEqual({
      managed: true,
      manifest: "team-data",
      deletionPolicy: "delete",
      orphaned: false,
    });
    expect(readOwnership(ownershipTags("team-data", "retain")).deletionPolicy).toBe("retain");
  });

  it("treat an untagged resource as unmanaged, and an unknown deletion policy as retain", () => {
    expect(readOwnership({})).toMatchObject({
      managed: false,
      manifest: undefined,
      deletionPolicy: "retain",
    });
    expect(
      readOwnership({ ...ownershipTags("x", "delete"), "rolecall.dev/deletion-policy": "Delete" })
        .deletionPolicy,
    ).toBe("retain");
    expect(
      readOwnership({ "rolecall.dev/managed-by": "someone-else", "rolecall.dev/manifest": "x" }),
    ).toMatchObject({ managed: false, manifest: undefined });
  });
});

describe("iamNameKey", () => {
  it("compares IAM names without regard to case, as IAM does", () => {
    expect(iamNameKey("DEV_ROLE")).toBe(iamNameKey("dev_role"));
    expect(iamNameKey("DEV_ROLE")).not.toBe(iamNameKey("DEV-ROLE"));
  });
});
