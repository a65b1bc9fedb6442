// The controller's own IAM policy (policies/rolecall-controller-policy.json) against the code: every operation
// rolecall's adapters can send is allowed, nothing else is, and every write stays inside rolecall's IAM path.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { managedByValue, ownershipTagKeys } from "../../src/desired/ownership.js";
import { repoRoot } from "../support/cli.js";

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

const policy = JSON.parse(
  readFileSync(path.join(repoRoot, "policies/rolecall-controller-policy.json"), "utf8"),
) as { Version: string; Statement: readonly Statement[] };

const list = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === "string" ? [value] : value;

/** Every .ts file under `directory`, but not under `excluded`. */
function sourceFiles(directory: string, excluded: readonly string[]): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (excluded.includes(full)) continue;
    if (entry.isDirectory()) files.push(...sourceFiles(full, excluded));
    else if (entry.name.endsWith(".ts")) files.push(full);
  }
  return files;
}

/**
 * The operations the source can send: each `new XCommand(` mapped to the service of the `@aws-sdk/client-*`
 * package X was imported from. Returns the operations and, for the checks below, the commands it saw.
 */
function scanOperations(files: readonly string[]): {
  operations: Map<string, string[]>;
  unmapped: string[];
  importedUnused: string[];
  paginators: string[];
} {
  const operations = new Map<string, string[]>();
  const unmapped: string[] = [];
  const importedUnused: string[] = [];
  const paginators: string[] = [];
  for (const file of files) {
    const source = readFileSync(file, "utf8");
    const shown = path.relative(repoRoot, file);
    const serviceOf = new Map<string, string>();
    for (const match of source.matchAll(
      /import\s+(type\s+)?\{([^}]*)\}\s*from\s*"@aws-sdk\/client-([a-z0-9-]+)"/g,
    )) {
      const [, wholeTypeOnly, names = "", client = ""] = match;
      if (wholeTypeOnly !== undefined) continue;
      for (const raw of names.split(",")) {
        const name = raw.trim();
        if (name === "" || name.startsWith("type ")) continue;
        const local = name.split(/\s+as\s+/).at(-1) ?? name;
        serviceOf.set(local, client);
      }
    }
    const used = new Set<string>();
    for (const match of source.matchAll(/new\s+(\w+Command)\s*\(/g)) {
      const command = match[1] ?? "";
      used.add(command);
      const service = serviceOf.get(command);
      if (service === undefined) {
        unmapped.push(`${shown}: ${command}`);
        continue;
      }
      const operation = `${service}:${command.replace(/Command$/, "")}`;
      operations.set(operation, [...(operations.get(operation) ?? []), shown]);
    }
    for (const name of serviceOf.keys())
      if (name.endsWith("Command") && !used.has(name)) importedUnused.push(`${shown}: ${name}`);
    for (const match of source.matchAll(/\bpaginate\w+\s*\(/g)) paginators.push(`${shown}: ${match[0]}`);
  }
  return { operations, unmapped, importedUnused, paginators };
}

const srcDirectory = path.join(repoRoot, "src");
const scan = scanOperations(sourceFiles(srcDirectory, [path.join(srcDirectory, "aws", "sim")]));

/** Permissions AWS checks beyond the operation's own: PassRole for any call that hands a role to EC2. */
const implied = new Map<string, string>([
  ["ec2:AssociateIamInstanceProfile", "iam:PassRole"],
  ["ec2:ReplaceIamInstanceProfileAssociation", "iam:PassRole"],
  ["iam:AddRoleToInstanceProfile", "iam:PassRole"],
  // Creating with tags also needs the tagging permission.
  ["iam:CreatePolicy", "iam:TagPolicy"],
  ["iam:CreateRole", "iam:TagRole"],
  ["iam:CreateInstanceProfile", "iam:TagInstanceProfile"],
]);
const needed = new Set([
  ...scan.operations.keys(),
  ...[...scan.operations.keys()].flatMap((operation) => list(implied.get(operation))),
]);

const readOnly = /^(iam|ec2):(Get|List|Describe)/;
const path_ = "rolecall";
const ownArn = {
  policy: `arn:aws:iam::*:policy/${path_}/*`,
  role: `arn:aws:iam::*:role/${path_}/*`,
  "instance-profile": `arn:aws:iam::*:instance-profile/${path_}/*`,
} as const;

/** The kind of IAM resource each write acts on (its Resource element must be that kind, under the path). */
function resourceKindOf(action: string): keyof typeof ownArn {
  if (/Policy(Version)?$|:(Tag|Untag)Policy$/.test(action) && !/Role/.test(action)) return "policy";
  if (/InstanceProfile$/.test(action)) return "instance-profile";
  expect(action, `${action} acts on a role`).toMatch(/Role|PassRole/);
  return "role";
}

describe("the scan of the adapters", () => {
  it("finds the commands rolecall sends, each from a known SDK client, and nothing sent any other way", () => {
    expect(scan.unmapped, "commands not imported from an @aws-sdk client").toEqual([]);
    expect(scan.importedUnused, "SDK commands imported but never constructed (sent some other way?)").toEqual(
      [],
    );
    expect(scan.paginators, "paginators send commands the scan would not see").toEqual([]);
    // A sanity floor, so a scanner that finds nothing cannot pass: the reads and writes every pass needs.
    for (const operation of [
      "iam:GetAccountAuthorizationDetails",
      "iam:CreateRole",
      "iam:CreatePolicyVersion",
      "iam:DeleteInstanceProfile",
      "ec2:DescribeInstances",
      "ec2:AssociateIamInstanceProfile",
    ])
      expect(scan.operations.has(operation), operation).toBe(true);
    // Only the adapters talk to AWS.
    for (const [operation, files] of scan.operations)
      for (const file of files) expect(file, operation).toMatch(/^src\/aws\//);
    expect(new Set([...scan.operations.keys()].map((operation) => operation.split(":")[0]))).toEqual(
      new Set(["iam", "ec2"]),
    );
  });
});

describe("policies/rolecall-controller-policy.json", () => {
  const allowedActions = policy.Statement.flatMap((statement) => list(statement.Action));

  it("is an identity policy of Allow statements with exact action names", () => {
    expect(policy.Version).toBe("2012-10-17");
    const sids = policy.Statement.map((statement) => statement.Sid);
    expect(new Set(sids).size, "unique Sids").toBe(sids.length);
    for (const statement of policy.Statement) {
      expect(statement.Effect, statement.Sid).toBe("Allow");
      expect(
        Object.keys(statement).filter(
          (key) => !["Sid", "Effect", "Action", "Resource", "Condition"].includes(key),
        ),
      ).toEqual([]);
      for (const action of list(statement.Action))
        expect(action, statement.Sid).toMatch(/^(iam|ec2):[A-Z][A-Za-z]+$/);
      expect(list(statement.Resource).length, statement.Sid).toBeGreaterThan(0);
    }
    expect(new Set(allowedActions).size, "each action granted by one statement").toBe(allowedActions.length);
  });

  it("allows every operation the adapters can call, and nothing beyond them", () => {
    expect(
      [...needed].filter((operation) => !allowedActions.includes(operation)).sort(),
      "used but not allowed",
    ).toEqual([]);
    expect(allowedActions.filter((action) => !needed.has(action)).sort(), "allowed but never used").toEqual(
      [],
    );
  });

  it("scopes every IAM write to rolecall's path, one resource kind per action", () => {
    for (const statement of policy.Statement) {
      for (const action of list(statement.Action)) {
        if (!action.startsWith("iam:") || readOnly.test(action)) continue;
        const kind = resourceKindOf(action);
        const resources = list(statement.Resource);
        // A create statement may list all three kinds; each must be rolecall's own.
        for (const resource of resources)
          expect(Object.values(ownArn) as string[], `${action} on ${resource}`).toContain(resource);
        expect(resources, `${action} on its own kind`).toContain(ownArn[kind]);
      }
    }
  });

  it("creates only with the ownership tag, and attaches only rolecall's own policies", () => {
    const creates = policy.Statement.filter((statement) =>
      list(statement.Action).some((action) => /^iam:Create(Role|Policy|InstanceProfile)$/.test(action)),
    );
    expect(creates.flatMap((statement) => list(statement.Action)).sort()).toEqual([
      "iam:CreateInstanceProfile",
      "iam:CreatePolicy",
      "iam:CreateRole",
    ]);
    for (const statement of creates)
      expect(statement.Condition).toEqual({
        StringEquals: { [`aws:RequestTag/${ownershipTagKeys.managedBy}`]: managedByValue },
      });

    const attach = policy.Statement.filter((statement) =>
      list(statement.Action).includes("iam:AttachRolePolicy"),
    );
    expect(attach).toHaveLength(1);
    expect(list(attach[0]?.Action)).toEqual(["iam:AttachRolePolicy"]);
    expect(attach[0]?.Condition).toEqual({ ArnLike: { "iam:PolicyARN": ownArn.policy } });
  });

  it("lets iam:PassRole pass only rolecall's roles, and only to EC2", () => {
    const passes = policy.Statement.filter((statement) => list(statement.Action).includes("iam:PassRole"));
    expect(passes).toHaveLength(1);
    const [pass] = passes;
    expect(list(pass?.Action)).toEqual(["iam:PassRole"]);
    expect(list(pass?.Resource)).toEqual([ownArn.role]);
    expect(pass?.Condition).toEqual({ StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } });
  });

  it("grants account-wide (Resource *) only reads that cannot be scoped, and the EC2 association calls", () => {
    for (const statement of policy.Statement) {
      if (!list(statement.Resource).includes("*")) continue;
      for (const action of list(statement.Action))
        expect(action, statement.Sid).toMatch(
          /^(iam:(GetAccountAuthorizationDetails|ListInstanceProfiles|ListPolicies)|ec2:(Describe\w+|AssociateIamInstanceProfile|DisassociateIamInstanceProfile|ReplaceIamInstanceProfileAssociation))$/,
        );
    }
  });
});
