import type { ManifestError } from "../../src/manifest/manifest-error.js";
import { StatusStore } from "../../src/status/status-store.js";
import { TargetsStatus, type TargetReach } from "../../src/status/targets-status.js";

/** A file in no target's directory, as the daemon reports one. */
export const strayFile: ManifestError = {
  file: "/m/stray.yaml",
  line: 1,
  column: 1,
  message: "in no target",
  pointer: "",
  code: "OutsideTargets",
};

/**
 * The status of a daemon run with two targets: prod (111111111111, two regions) reached, with one manifest, web;
 * dev (222222222222) as `devReach` says, with none; and the files in no target's directory.
 */
export function twoTargets(
  now: Date,
  devReach: TargetReach,
  outside: readonly ManifestError[],
): TargetsStatus {
  const prod = new StatusStore(() => now, "prod");
  prod.setManifests([{ name: "web", file: "/m/prod/web.yaml", generation: "g1", mode: "enforce" }], []);
  return new TargetsStatus(
    new StatusStore(() => now),
    [
      {
        name: "prod",
        account: "111111111111",
        regions: ["us-east-1", "eu-west-1"],
        store: prod,
        reach: () => ({ state: "reachable", since: now.toISOString() }),
        ready: () => true,
      },
      {
        name: "dev",
        account: "222222222222",
        regions: ["us-east-1"],
        store: new StatusStore(() => now, "dev"),
        reach: () => devReach,
        ready: () => devReach.state === "reachable",
      },
    ],
    () => outside,
  );
}
