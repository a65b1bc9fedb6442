import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath, repoRoot } from "../support/cli.js";

const run = promisify(execFile);
const unitFile = path.join(repoRoot, "deploy", "systemd", "rolecall.service");
const systemdAnalyze = "/usr/bin/systemd-analyze";

async function analyze(args: readonly string[]) {
  try {
    const { stdout, stderr } = await run(systemdAnalyze, args);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: unknown; stdout?: string; stderr?: string };
    if (failure.code === "ENOENT")
      throw new Error(
        `${systemdAnalyze} is missing; it comes with Debian's systemd package: apt-get install -y systemd`,
      );
    return { code: Number(failure.code), stdout: failure.stdout ?? "", stderr: failure.stderr ?? "" };
  }
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "rolecall-systemd-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/*
 * systemd-analyze verify checks every directive and that the command exists. The unit names where an install
 * puts node and rolecall (/usr/bin/node, /opt/rolecall); the copy verified here points at this machine's node and
 * this checkout's build instead, and nothing else differs.
 */
describe("deploy/systemd/rolecall.service", () => {
  it("passes systemd-analyze verify", async () => {
    const unit = await readFile(unitFile, "utf8");
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node .* \/opt\/rolecall\/dist\/cli\.js run$/m);
    const here = unit
      .replace("ExecStart=/usr/bin/node", `ExecStart=${process.execPath}`)
      .replace("/opt/rolecall/dist/cli.js", cliPath);
    const copy = path.join(scratch, "rolecall.service");
    await writeFile(copy, here);
    const result = await analyze(["verify", copy]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    // And it does complain about a unit that is wrong.
    await writeFile(copy, here.replace("ProtectSystem=strict", "ProtectSytem=strict"));
    const broken = await analyze(["verify", copy]);
    expect(broken.stderr).toContain("ProtectSytem");
  });

  it("is hardened: systemd-analyze security rates its exposure 2.0 or lower (OK)", async () => {
    const result = await analyze(["security", "--offline=yes", "--no-pager", unitFile]);
    const exposure = /Overall exposure level for rolecall\.service: (\d+(?:\.\d+)?) (\w+)/.exec(
      result.stdout,
    );
    expect(exposure, result.stdout.slice(-500)).not.toBeNull();
    expect(Number(exposure![1])).toBeLessThanOrEqual(2);
    expect(["SAFE", "OK"]).toContain(exposure![2]);
  });

  it("runs node with the flags of the container image (lite mode: what lets MemoryDenyWriteExecute hold)", async () => {
    const unit = await readFile(unitFile, "utf8");
    const dockerfile = await readFile(path.join(repoRoot, "Dockerfile"), "utf8");
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const imageFlags = entrypoint.slice(1, entrypoint.indexOf("dist/cli.js"));
    const unitFlags = /^ExecStart=\/usr\/bin\/node (.*) \/opt\/rolecall/m.exec(unit)![1]!.split(" ");
    expect(unitFlags).toEqual(imageFlags);
    expect(unitFlags).toContain("--lite-mode");
    expect(unit).toMatch(/^MemoryDenyWriteExecute=yes$/m);
  });
});
