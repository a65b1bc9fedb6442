import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTargets, TargetsFileError } from "../../src/main/connect-targets.js";
import { tempDirs } from "../support/temp-dir.js";

describe("readTargets", () => {
  const dirs = tempDirs("read-targets");
  afterAll(() => dirs.cleanup());

  it("refuses to start on an invalid file, every problem at FILE:LINE:COL", async () => {
    const file = path.join(await dirs.make(), "targets.yaml");
    await writeFile(
      file,
      'apiVersion: rolecall.dev/v1alpha1\nkind: Targets\ntargets:\n  - name: a\n    manifests: a\n    account: "111111111111"\n    regions: [us-east-1]\n    roleArn: not-an-arn\n',
    );
    const attempt = readTargets(file, "/rolecall/");
    await expect(attempt).rejects.toBeInstanceOf(TargetsFileError);
    await expect(attempt).rejects.toThrow(`${file}:8:14: must be an IAM role ARN`);
  });

  it("names a file it cannot read", async () => {
    const missing = path.join(await dirs.make(), "absent.yaml");
    await expect(readTargets(missing, "/rolecall/")).rejects.toThrow(`${missing}:1:1: cannot read: ENOENT`);
  });
});
