// The IAM policy files rolecall ships, read as the tests need them, and the names that tie them together.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Policy, Statement } from "../support/iam-evaluator.js";
import { repoRoot } from "../support/cli.js";

/** A statement as the files hold it: always with Action and Resource (the files use neither Not form). */
export interface FileStatement extends Statement {
  readonly Sid: string;
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyFile extends Policy {
  readonly Version: string;
  readonly Statement: readonly FileStatement[];
}

export const policyPaths = {
  controller: "policies/rolecall-controller-policy.json",
  bounded: "policies/rolecall-controller-policy.bounded.json",
  boundary: "policies/rolecall-boundary-policy.json",
} as const;

export function readPolicy(relative: string): PolicyFile {
  return JSON.parse(readFileSync(path.join(repoRoot, relative), "utf8")) as PolicyFile;
}

/**
 * The boundary's name and path. The path is not rolecall's own (/rolecall/): every write the controller may make
 * on policies is scoped to `policy/rolecall/*`, so a boundary outside it is one the controller can never edit.
 */
export const boundaryName = "rolecall-boundary";
export const boundaryPath = "/rolecall-boundary/";
/** As the bounded policy file names it: any account, so the file works as it is in any account. */
export const boundaryArnPattern = `arn:aws:iam::*:policy${boundaryPath}${boundaryName}`;

/** A concrete account for requests; the files' ARNs leave the account open. */
export const account = "123456789012";
export const boundaryArn = `arn:aws:iam::${account}:policy${boundaryPath}${boundaryName}`;

export const list = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === "string" ? [value] : value;

/** The one statement of a policy that grants an action (the files grant each action once). */
export function grantOf(policy: PolicyFile, action: string): FileStatement | undefined {
  return policy.Statement.find((statement) => list(statement.Action).includes(action));
}
