import { describe, expect, it } from "vitest";
import { formatManifestError } from "../../src/manifest/manifest-error.js";
import { loadTargetsFile, normalizeDirectory } from "../../src/targets/targets-file.js";

const load = (text: string) => loadTargetsFile("targets.yaml", new TextEncoder().encode(text), "/rolecall/");

const header = "apiVersion: rolecall.dev/v1alpha1\nkind: Targets\ntargets:\n";

describe("loadTargetsFile", () => {
  it("reads targets, normalizing their directories", () => {
    const loaded = load(
      header +
        [
          "  - name: prod",
          "    manifests: ./prod/",
          '    account: "111111111111"',
          "    roleArn: arn:aws:iam::111111111111:role/rolecall-controller",
          "    externalId: ext-123",
          "    regions: [us-east-1, eu-west-1]",
          "  - name: dev",
          "    manifests: dev",
          '    account: "222222222222"',
          "    regions: [us-east-1]",
        ].join("\n"),
    );
    expect(loaded).toEqual({
      ok: true,
      targets: [
        {
          name: "prod",
          manifests: "prod",
          account: "111111111111",
          roleArn: "arn:aws:iam::111111111111:role/rolecall-controller",
          externalId: "ext-123",
          regions: ["us-east-1", "eu-west-1"],
        },
        { name: "dev", manifests: "dev", account: "222222222222", regions: ["us-east-1"] },
      ],
    });
  });

  it("reports schema violations at FILE:LINE:COL, as manifests do", () => {
    const loaded = load(
      header + ["  - name: Prod", "    manifests: /abs", '    account: "1111"', "    regions: []"].join("\n"),
    );
    expect(loaded.ok).toBe(false);
    const lines = loaded.ok ? [] : loaded.errors.map(formatManifestError);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^targets\.yaml:4:11: must be a lowercase DNS label.*\(at \/targets\/0\/name\)$/,
        ),
        expect.stringMatching(
          /^targets\.yaml:5:16: must be a relative path.*\(at \/targets\/0\/manifests\)$/,
        ),
        expect.stringMatching(
          /^targets\.yaml:6:14: must be a 12-digit AWS account ID.*\(at \/targets\/0\/account\)$/,
        ),
        expect.stringMatching(
          /^targets\.yaml:7:14: must list at least one item \(at \/targets\/0\/regions\)$/,
        ),
      ]),
    );
  });

  it("rejects '..' escaping the manifests directory and unknown fields", () => {
    const loaded = load(
      header +
        [
          "  - name: a",
          "    manifests: prod/../../etc",
          '    account: "111111111111"',
          "    regions: [us-east-1]",
          "    region: x",
        ].join("\n"),
    );
    const codes = loaded.ok ? [] : loaded.errors.map((error) => [error.pointer, error.message]);
    expect(codes).toEqual(
      expect.arrayContaining([
        ["/targets/0/manifests", expect.stringContaining("inside the manifests directory")],
        ["/targets/0/region", expect.stringContaining('did you mean "regions"?')],
      ]),
    );
  });

  it("rejects duplicate names, nested directories and two targets in one account", () => {
    const target = (name: string, dir: string, account: string) =>
      [
        `  - name: ${name}`,
        `    manifests: ${dir}`,
        `    account: "${account}"`,
        "    regions: [us-east-1]",
      ].join("\n");
    const loaded = load(
      header +
        [
          target("prod", "prod", "111111111111"),
          target("prod", "other", "222222222222"),
          target("eu", "prod/eu", "333333333333"),
          target("again", "again", "111111111111"),
        ].join("\n"),
    );
    expect(loaded.ok).toBe(false);
    const errors = loaded.ok ? [] : loaded.errors;
    expect(errors.map((error) => [error.code, error.line, error.pointer])).toEqual([
      ["DuplicateTargetName", 8, "/targets/1/name"],
      ["OverlappingTargetDirectories", 13, "/targets/2/manifests"],
      ["SharedTargetAccount", 18, "/targets/3/account"],
    ]);
    expect(errors[2]?.message).toContain(
      'already managed by target "prod" under the same IAM path /rolecall/',
    );
  });

  it("refuses a file of several documents, and YAML errors keep their position", () => {
    const several = load(`${header}  []\n---\nkind: Targets\n`);
    expect(several.ok ? [] : several.errors.map((error) => [error.code, error.line])).toEqual([
      ["TargetsFileInvalid", 6],
    ]);
    const broken = load(`${header}  - name: [unclosed\n`);
    expect(broken.ok ? "" : broken.errors[0]?.code).toBe("YamlSyntax");
  });

  it("normalizes directory spellings to one form", () => {
    expect(["./prod/", "prod", "prod//", "./", "a/./b"].map(normalizeDirectory)).toEqual([
      "prod",
      "prod",
      "prod",
      "",
      "a/b",
    ]);
  });
});
