import { describe, expect, it } from "vitest";
import { assignManifests } from "../../src/targets/assign-manifests.js";
import type { TargetSpec } from "../../src/targets/target-spec.js";

const spec = (name: string, manifests: string): TargetSpec => ({
  name,
  manifests,
  account: "111111111111",
  regions: ["us-east-1"],
});
const input = (file: string) => ({ file, bytes: new Uint8Array() });

describe("assignManifests", () => {
  it("gives each file to the target whose directory holds it, and reports the rest", () => {
    const targets = [spec("prod", "prod"), spec("dev", "teams/dev")];
    const assigned = assignManifests(
      "repo/manifests",
      [
        input("repo/manifests/prod/a.yaml"),
        input("repo/manifests/prod/deep/b.yaml"),
        input("repo/manifests/teams/dev/c.yaml"),
        input("repo/manifests/production/d.yaml"),
        input("repo/manifests/e.yaml"),
      ],
      targets,
    );
    expect(assigned.byTarget.get("prod")?.map((file) => file.file)).toEqual([
      "repo/manifests/prod/a.yaml",
      "repo/manifests/prod/deep/b.yaml",
    ]);
    expect(assigned.byTarget.get("dev")?.map((file) => file.file)).toEqual([
      "repo/manifests/teams/dev/c.yaml",
    ]);
    expect(assigned.outside.map((error) => [error.file, error.code])).toEqual([
      ["repo/manifests/production/d.yaml", "OutsideTargets"],
      ["repo/manifests/e.yaml", "OutsideTargets"],
    ]);
    expect(assigned.outside[0]?.message).toContain("prod=prod, dev=teams/dev");
  });

  it("gives everything to a target of the whole directory", () => {
    const assigned = assignManifests("m", [input("m/a.yaml"), input("m/x/b.yaml")], [spec("default", "")]);
    expect(assigned.byTarget.get("default")).toHaveLength(2);
    expect(assigned.outside).toEqual([]);
  });
});
