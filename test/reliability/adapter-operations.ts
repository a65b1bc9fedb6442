// The AWS operations rolecall's adapters can send, read from the source: each `new XCommand(` mapped to the
// service of the `@aws-sdk/client-*` package X was imported from (directly or through src/aws/sdk), plus the
// permissions AWS checks beside them.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../support/cli.js";

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

export interface Scan {
  /** Operation (`iam:CreateRole`) → the files that send it. */
  readonly operations: Map<string, string[]>;
  /** Commands constructed without an import from an SDK client. */
  readonly unmapped: string[];
  /** SDK commands imported but never constructed (sent some other way?). */
  readonly importedUnused: string[];
  /** Paginator calls, which send commands the scan would not see. */
  readonly paginators: string[];
}

/**
 * The SDK names a file imports as values (not types), local name → client package (`iam`, `ec2`): from the package,
 * or from its module in src/aws/sdk, which re-exports the package's names.
 */
function importedClients(source: string): Map<string, string> {
  const serviceOf = new Map<string, string>();
  for (const match of source.matchAll(
    /import\s+(type\s+)?\{([^}]*)\}\s*from\s*"(?:@aws-sdk\/|(?:\.\.?\/)+(?:aws\/)?sdk\/)client-([a-z0-9-]+)(?:\.js)?"/g,
  )) {
    const [, wholeTypeOnly, names = "", client = ""] = match;
    if (wholeTypeOnly !== undefined) continue;
    for (const raw of names.split(",")) {
      const name = raw.trim();
      if (name === "" || name.startsWith("type ")) continue;
      serviceOf.set(name.split(/\s+as\s+/).at(-1) ?? name, client);
    }
  }
  return serviceOf;
}

function scanFile(file: string, scan: Scan): void {
  const source = readFileSync(file, "utf8");
  const shown = path.relative(repoRoot, file);
  const serviceOf = importedClients(source);
  const used = new Set<string>();
  for (const match of source.matchAll(/new\s+(\w+Command)\s*\(/g)) {
    const command = match[1] ?? "";
    used.add(command);
    const service = serviceOf.get(command);
    if (service === undefined) {
      scan.unmapped.push(`${shown}: ${command}`);
      continue;
    }
    const operation = `${service}:${command.replace(/Command$/, "")}`;
    scan.operations.set(operation, [...(scan.operations.get(operation) ?? []), shown]);
  }
  for (const name of serviceOf.keys())
    if (name.endsWith("Command") && !used.has(name)) scan.importedUnused.push(`${shown}: ${name}`);
  for (const match of source.matchAll(/\bpaginate\w+\s*\(/g)) scan.paginators.push(`${shown}: ${match[0]}`);
}

function scanOperations(files: readonly string[]): Scan {
  const scan: Scan = { operations: new Map(), unmapped: [], importedUnused: [], paginators: [] };
  for (const file of files) scanFile(file, scan);
  return scan;
}

const srcDirectory = path.join(repoRoot, "src");
/** The simulator implements AWS rather than calling it. */
export const scan = scanOperations(sourceFiles(srcDirectory, [path.join(srcDirectory, "aws", "sim")]));

/** Permissions AWS checks beyond the operation's own. */
export const implied: ReadonlyMap<string, string> = new Map([
  // Handing a role to EC2 is passing it.
  ["ec2:AssociateIamInstanceProfile", "iam:PassRole"],
  ["ec2:ReplaceIamInstanceProfileAssociation", "iam:PassRole"],
  ["iam:AddRoleToInstanceProfile", "iam:PassRole"],
  // Creating with tags also needs the tagging permission.
  ["iam:CreatePolicy", "iam:TagPolicy"],
  ["iam:CreateRole", "iam:TagRole"],
  ["iam:CreateInstanceProfile", "iam:TagInstanceProfile"],
]);

/** Operations IAM authorizes as another action: SQS's batch calls need the permission of their single form. */
export const authorizedAs: ReadonlyMap<string, string> = new Map([
  ["sqs:DeleteMessageBatch", "sqs:DeleteMessage"],
]);

/**
 * Operations the SDK sends on rolecall's behalf, out of the scan's sight: with a Targets file, the credential
 * provider of src/aws/target-connection.ts (fromTemporaryCredentials) assumes each target's role.
 */
export const sentBySdk: readonly string[] = ["sts:AssumeRole"];

/** Operations AWS answers without any permission, so no policy needs to (or could usefully) name them. */
export const needNoPermission: ReadonlySet<string> = new Set(["sts:GetCallerIdentity"]);

/** Operations sent only with --permissions-boundary: the policy for running without it need not allow them. */
export const boundaryOnly: ReadonlySet<string> = new Set(["iam:PutRolePermissionsBoundary"]);

/** What a controller policy must allow: the scanned operations and what they imply, for one way of running. */
export function neededOperations(withBoundary: boolean): Set<string> {
  const sent = [...scan.operations.keys(), ...sentBySdk]
    .filter((operation) => !needNoPermission.has(operation))
    .map((operation) => authorizedAs.get(operation) ?? operation);
  const impliedBySent = sent.flatMap((operation) => {
    const extra = implied.get(operation);
    return extra === undefined ? [] : [extra];
  });
  const all = [...sent, ...impliedBySent];
  return new Set(all.filter((operation) => withBoundary || !boundaryOnly.has(operation)));
}
