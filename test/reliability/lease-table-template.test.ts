// deploy/aws/lease-table.yaml: the table rolecall's lease store expects (partition key `id`, a string, no sort
// key), billed on demand, under the name the controller policies are scoped to.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse, type ScalarTag } from "yaml";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/cli.js";
import { grantOf, policyPaths, readPolicy, list } from "./policy-files.js";

const tags: ScalarTag[] = [
  { tag: "!Ref", resolve: (value) => ({ Ref: value }) },
  { tag: "!GetAtt", resolve: (value) => ({ "Fn::GetAtt": value.split(".") }) },
];
interface Template {
  readonly Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  readonly Outputs: Record<string, { Value: unknown }>;
}
const template = parse(readFileSync(path.join(repoRoot, "deploy/aws/lease-table.yaml"), "utf8"), {
  customTags: tags,
}) as Template;

describe("deploy/aws/lease-table.yaml", () => {
  const table = template.Resources.RolecallLeaseTable;

  it("creates one on-demand table keyed by the string attribute id alone", () => {
    expect(Object.keys(template.Resources)).toEqual(["RolecallLeaseTable"]);
    expect(table?.Type).toBe("AWS::DynamoDB::Table");
    expect(table?.Properties.KeySchema).toEqual([{ AttributeName: "id", KeyType: "HASH" }]);
    expect(table?.Properties.AttributeDefinitions).toEqual([{ AttributeName: "id", AttributeType: "S" }]);
    expect(table?.Properties.BillingMode).toBe("PAY_PER_REQUEST");
  });

  it("names the table the controller policies allow, and outputs the value of --lease-table", () => {
    const name = table?.Properties.TableName;
    expect(name).toBe("rolecall-lease");
    for (const file of [policyPaths.controller, policyPaths.bounded])
      expect(list(grantOf(readPolicy(file), "dynamodb:PutItem")?.Resource), file).toEqual([
        `arn:aws:dynamodb:*:*:table/${String(name)}`,
      ]);
    expect(template.Outputs.LeaseTableName?.Value).toEqual({ Ref: "RolecallLeaseTable" });
  });
});
