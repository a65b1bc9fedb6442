import type { CallCounter } from "../aws/call-observer.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import type { ManifestResult, PassResult } from "../engine/engine.js";
import type { ActionOutcome } from "../engine/execute-plan.js";
import type { ManifestSource } from "../fs/git-revision.js";
import { formatManifestError, type ManifestError } from "../manifest/manifest-error.js";
import type { CompositePlan } from "../plan/manifest-plan.js";
import { describeAction, type Action } from "../plan/action.js";
import { scalarText } from "./diff-values.js";
import { instanceAccessContext, instanceAccessLines, type InstanceAccessContext } from "./instance-access.js";
import { actionPolicyDiff, parsedReasonValue, policyAccessJson, policyAccessLines } from "./plan-access.js";

/**
 * An action in --output json. Where it writes a policy document, `desired` and `actual` are the documents
 * themselves, whole, as objects (`actual` is null when the live one could not be read), and `access` holds what
 * the new document allows and no longer allows; elsewhere they are the reason's text.
 */
export function actionJson(action: Action) {
  const policy = actionPolicyDiff(action);
  return {
    kind: action.kind,
    description: describeAction(action),
    resource: action.reason.resource,
    field: action.reason.field,
    ...documentsJson(action),
    ...(policy === undefined ? {} : { access: policyAccessJson(policy) }),
  };
}

function documentsJson(action: Action): { desired: unknown; actual: unknown } {
  switch (action.kind) {
    case "createPolicyVersion":
      return { desired: action.document, actual: action.liveDocument ?? null };
    case "updateAssumeRolePolicy":
      return {
        desired: action.trustPolicy,
        actual: parsedReasonValue(action.reason.actual) ?? action.reason.actual,
      };
    default:
      return { desired: action.reason.desired, actual: action.reason.actual };
  }
}

export function outcomeJson(outcome: ActionOutcome) {
  return {
    ...actionJson(outcome.action),
    status: outcome.status,
    ...(outcome.errorCode === undefined ? {} : { errorCode: outcome.errorCode }),
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
  };
}

export function resultJson(result: ManifestResult, executed: boolean) {
  return {
    name: result.manifest,
    mode: result.mode,
    status: result.status,
    ...(executed
      ? { actions: result.outcomes.map(outcomeJson) }
      : { actions: [...result.plan.actions, ...result.plan.pruneActions].map(actionJson) }),
    drift: result.plan.drift,
    instances: result.plan.instances,
    resources: result.plan.resources,
    errors: result.errors,
    warnings: result.warnings,
  };
}

export function passJson(
  pass: PassResult,
  invalid: readonly ManifestError[],
  calls: CallCounter,
  executed: boolean,
  seconds: number,
  source: ManifestSource,
) {
  return {
    source,
    manifests: pass.results.map((result) => resultJson(result, executed)),
    composites: pass.composites.map((result) => ({
      ...resultJson(result, executed),
      members: membersOf(result),
    })),
    invalid,
    pruneSuspended: pass.plan.pruneSuspended?.message ?? null,
    awsCalls: { total: calls.total(), mutating: calls.mutating(), byOperation: calls.byOperation() },
    seconds,
  };
}

/**
 * Human-readable plan: per manifest, each action with why. Values are shown as words, never as JSON: a policy
 * document change as the access it adds and removes, an instance change as the access the instance gains or loses
 * (named from `manifests`, the compiled manifests in force).
 */
export function renderPlanText(
  pass: PassResult,
  invalid: readonly ManifestError[],
  manifests: readonly DesiredAccess[] = [],
): string {
  const context = instanceAccessContext(pass, manifests);
  const lines: string[] = [];
  for (const error of invalid) lines.push(`invalid: ${formatManifestError(error)}`);
  for (const result of pass.results) lines.push(...resultLines(result, context));
  for (const result of pass.composites) lines.push(...resultLines(result, context, membersOf(result)));
  if (pass.plan.pruneSuspended !== undefined)
    lines.push(`removal held back: ${pass.plan.pruneSuspended.message}`);
  return lines.join("\n");
}

function resultLines(
  result: ManifestResult,
  context: InstanceAccessContext,
  members?: readonly string[],
): string[] {
  const actions = [...result.plan.actions, ...result.plan.pruneActions];
  const observe = result.mode === "observe";
  const title =
    members === undefined
      ? `${result.manifest} (${result.mode})`
      : `composite ${result.manifest} of ${members.join(" + ")}`;
  const lines = [
    `${title}: ${actions.length === 0 ? "in sync" : `${actions.length} change(s)${observe ? " — drift only, observe mode changes nothing" : ""}`}`,
  ];
  actions.forEach((action, index) => {
    lines.push(`  ${observe ? "~" : "+"} ${describeAction(action)}`);
    // Actions with one reason (a composite's policies attached to its role) show it once, after the last.
    const next = actions[index + 1];
    if (next === undefined || !sameReason(action, next)) lines.push(`      ${reasonLine(action)}`);
    const details = policyAccessLines(action) ?? instanceAccessLines(action, context) ?? [];
    for (const detail of details) lines.push(`        ${detail}`);
  });
  for (const error of result.errors) lines.push(`  ! ${error}`);
  for (const warning of result.warnings) lines.push(`  ? ${warning}`);
  return lines;
}

function sameReason(one: Action, other: Action): boolean {
  const [a, b] = [one.reason, other.reason];
  return (
    one.kind === other.kind &&
    a.resource === b.resource &&
    a.field === b.field &&
    a.desired === b.desired &&
    a.actual === b.actual
  );
}

/** `RESOURCE FIELD: actual → desired`; for documents, which two are compared (the lines below say how). */
function reasonLine(action: Action): string {
  const { resource, field, desired, actual } = action.reason;
  if (action.kind === "createPolicyVersion")
    return `${resource} ${field}: the live default version → the compiled document`;
  if (action.kind === "updateAssumeRolePolicy")
    return `${resource} ${field}: the live trust policy → the one rolecall writes`;
  return `${resource} ${field}: ${shownValue(actual)} → ${shownValue(desired)}`;
}

/** A reason value in words: a list as its items, tags as KEY=VALUE, never a JSON text. */
function shownValue(text: string): string {
  const value = parsedReasonValue(text);
  if (value === undefined) return "(too long to show here; see --output json)";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.length === 0 ? "(none)" : value.map(scalarText).join(", ");
  if (value !== null && typeof value === "object") {
    if ("Statement" in value) return "a policy document";
    return Object.entries(value)
      .map(([key, item]) => `${key}=${scalarText(item)}`)
      .join(", ");
  }
  return scalarText(value);
}

/** The members of a composite's result (its plan is a CompositePlan). */
function membersOf(result: ManifestResult): readonly string[] {
  return "members" in result.plan ? (result.plan as CompositePlan).members : [];
}

export function renderOutcomeLine(manifest: string, outcome: ActionOutcome): string {
  const mark = outcome.status === "done" ? "✓" : outcome.status === "skipped" ? "-" : "✗";
  const detail =
    outcome.status === "done" ? "" : `: ${outcome.errorCode ?? ""} ${outcome.error ?? ""}`.trimEnd();
  return `${mark} ${manifest}: ${outcome.description}${detail}`;
}

/** The summary's tail: the cost of the run, and the Git revision of the manifests it read (when in Git). */
export function callSummary(calls: CallCounter, source?: ManifestSource): string {
  const revision = source?.revision == null ? "" : `; manifests at revision ${source.revision.slice(0, 7)}`;
  return `AWS calls: ${calls.total()} (${calls.mutating()} mutating)${revision}`;
}
