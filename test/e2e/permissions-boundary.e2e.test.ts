import { writeFile } from "node:fs/promises";
import path from "node:path";
import {
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteRolePermissionsBoundaryCommand,
  GetRoleCommand,
  PutRolePermissionsBoundaryCommand,
} from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { ec2TrustPolicy } from "../../src/desired/policy-document.js";
import { manifestYaml, type ManifestSpec } from "../support/drift-kit.js";
import { launchInstances } from "../support/moto.js";
import { runCliOnMoto } from "../support/moto-engine.js";
import { motoWorld } from "../support/moto-world.js";

interface ApplyReport {
  readonly manifests: readonly {
    name: string;
    status: string;
    actions: readonly { kind: string; status: string }[];
    resources: { permissionsBoundary?: string };
  }[];
  readonly awsCalls: { mutating: number; byOperation: Record<string, number> };
}

/** Every role rolecall creates or adopts carries the configured boundary, and a boundary removed by hand returns. */
describe("permissions boundary against moto_server", () => {
  let boundary: string;
  const world = motoWorld("boundary");

  beforeEach(async () => {
    const created = await world.iam.send(
      new CreatePolicyCommand({
        PolicyName: "rolecall-boundary",
        Path: "/rolecall-boundary/",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::*" }],
        }),
      }),
    );
    boundary = created.Policy?.Arn ?? "";
  });

  const write = (spec: ManifestSpec) =>
    writeFile(path.join(world.directory, `${spec.name}.yaml`), manifestYaml(spec));
  const run = async (command: "apply" | "plan", extra: readonly string[] = []) => {
    const result = await runCliOnMoto(world.moto, [
      command,
      "--manifests",
      world.directory,
      "--output",
      "json",
      "--permissions-boundary",
      boundary,
      ...extra,
    ]);
    return { code: result.code, report: JSON.parse(result.stdout) as ApplyReport, stderr: result.stderr };
  };
  const boundaryOf = async (roleName: string) =>
    (await world.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role?.PermissionsBoundary
      ?.PermissionsBoundaryArn;

  it("a role created by apply carries the boundary, and the next apply changes nothing", async () => {
    await launchInstances(world.ec2, { app: "web" });
    await write({ name: "web", matchTags: { app: "web" } });
    const first = await run("apply");
    expect(first.code, first.stderr).toBe(0);
    expect(first.report.awsCalls.byOperation["iam:CreateRole"]).toBe(1);
    expect(await boundaryOf("rolecall-web")).toBe(boundary);
    expect(first.report.manifests[0]?.resources.permissionsBoundary).toBe(boundary);
    const second = await run("apply");
    expect(second.code).toBe(0);
    expect(second.report.awsCalls.mutating).toBe(0);
  });

  it("a boundary removed by hand is put back on the next pass (and plan reports it first)", async () => {
    await write({ name: "web", matchTags: { app: "web" } });
    expect((await run("apply")).code).toBe(0);
    await world.iam.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: "rolecall-web" }));
    const planned = await run("plan");
    expect(planned.code).toBe(2);
    expect(planned.report.manifests[0]?.actions.map((action) => action.kind)).toEqual([
      "putRolePermissionsBoundary",
    ]);
    const repaired = await run("apply");
    expect(repaired.report.awsCalls.mutating).toBe(1);
    expect(await boundaryOf("rolecall-web")).toBe(boundary);
  });

  it("a boundary replaced by hand is drift that observe mode reports and does not change", async () => {
    await write({ name: "web", matchTags: { app: "web" } });
    expect((await run("apply")).code).toBe(0);
    const other = await world.iam.send(
      new CreatePolicyCommand({
        PolicyName: "wider",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
        }),
      }),
    );
    await world.iam.send(
      new PutRolePermissionsBoundaryCommand({
        RoleName: "rolecall-web",
        PermissionsBoundary: other.Policy?.Arn,
      }),
    );
    await write({ name: "web", matchTags: { app: "web" }, mode: "observe" });
    const observed = await run("apply");
    expect(observed.report.manifests[0]?.status).toBe("drifted");
    expect(observed.report.awsCalls.mutating).toBe(0);
    expect(await boundaryOf("rolecall-web")).toBe(other.Policy?.Arn);
  });

  it("an adopted role gets the boundary before anything else of its chain is changed", async () => {
    await world.iam.send(
      new CreateRoleCommand({
        RoleName: "legacy-role",
        AssumeRolePolicyDocument: JSON.stringify(ec2TrustPolicy()),
      }),
    );
    await write({
      name: "legacy",
      matchTags: { app: "legacy" },
      iam: { roleName: "legacy-role" },
      adopt: true,
    });
    const applied = await run("apply");
    expect(applied.code, applied.stderr).toBe(0);
    const kinds = applied.report.manifests[0]?.actions.map((action) => action.kind) ?? [];
    expect(kinds[0]).toBe("putRolePermissionsBoundary");
    expect(kinds).toContain("tagRole");
    expect(await boundaryOf("legacy-role")).toBe(boundary);
  });
});
