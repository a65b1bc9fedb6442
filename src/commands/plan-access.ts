import { diffPolicies, type PolicyDiff } from "../access/access-diff.js";
import { accessLineJson, groupGrants, type AccessLineJson } from "../access/access-lines.js";
import { describeLine } from "../access/describe-access.js";
import type { AccessGrant } from "../access/policy-grants.js";
import type { Action } from "../plan/action.js";

/** The two documents an action changes from and to, when it changes a policy document. */
interface DocumentChange {
  /** What the live side is called in text ("the live default version"). */
  readonly liveName: string;
  readonly live: unknown;
  readonly wanted: unknown;
  /** True when the live document is not known at all (a policy about to be created has none). */
  readonly created: boolean;
}

function documentChange(action: Action): DocumentChange | undefined {
  switch (action.kind) {
    case "createPolicy":
      return { liveName: "no policy", live: undefined, wanted: action.document, created: true };
    case "createPolicyVersion":
      return {
        liveName: "the live default version",
        live: action.liveDocument,
        wanted: action.document,
        created: false,
      };
    case "updateAssumeRolePolicy":
      return {
        liveName: "the live trust policy",
        live: parsedReasonValue(action.reason.actual),
        wanted: action.trustPolicy,
        created: false,
      };
    default:
      return undefined;
  }
}

/** The access diff of an action that writes a policy document; undefined for any other action. */
export function actionPolicyDiff(action: Action): PolicyDiff | undefined {
  const change = documentChange(action);
  return change === undefined ? undefined : diffPolicies(change.live, change.wanted);
}

/**
 * Lines saying, in access terms, what an action that writes a policy document changes: `+ s3:PutObject on
 * arn:aws:s3:::b/*` for what the new document allows that the live one does not, `-` for the reverse, so a
 * drifted document shows exactly what the drift added or took away. Undefined for other actions.
 */
export function policyAccessLines(action: Action): string[] | undefined {
  const change = documentChange(action);
  if (change === undefined) return undefined;
  const diff = diffPolicies(change.live, change.wanted);
  const lines: string[] = [];
  if (!change.created && change.live === undefined)
    lines.push(`${change.liveName} could not be read; the new document allows:`);
  else if (!change.created)
    for (const problem of diff.problems.base) lines.push(`! ${change.liveName}: ${problem}`);
  for (const problem of diff.problems.head) lines.push(`! the new document: ${problem}`);
  if (diff.version !== null)
    lines.push(`~ Version ${diff.version.base ?? "(none)"} → ${diff.version.head ?? "(none)"}`);
  lines.push(...signed("+", diff.added), ...signed("-", diff.removed));
  if (diff.added.length === 0 && diff.removed.length === 0)
    lines.push("no change of access: the documents differ only in how they are written");
  return lines;
}

/** The access diff as JSON (`added` and `removed` lines), for --output json. */
export function policyAccessJson(diff: PolicyDiff): { added: AccessLineJson[]; removed: AccessLineJson[] } {
  return {
    added: groupGrants(diff.added).map(accessLineJson),
    removed: groupGrants(diff.removed).map(accessLineJson),
  };
}

/** A reason's value as data: the JSON a reason carries (a trust policy, a list of names), or the text itself. */
export function parsedReasonValue(value: string): unknown {
  if (!/^[[{]/.test(value)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    // Cut short (reasons are bounded), so not data any more: unknown, rather than half a document.
    return undefined;
  }
}

function signed(sign: "+" | "-", grants: readonly AccessGrant[]): string[] {
  return groupGrants(grants).map((line) => `${sign} ${describeLine(line)}`);
}
