import type { CallCounter } from "../aws/call-observer.js";
import type { ManifestResult, PassResult } from "../engine/engine.js";
import type { ActionOutcome } from "../engine/execute-plan.js";
import { formatManifestError, type ManifestError } from "../manifest/manifest-error.js";
import { describeAction, type Action } from "../plan/action.js";

export function actionJson(action: Action) {
  return {
    kind: action.kind,
    description: describeAction(action),
    resource: action.reason.resource,
    field: action.reason.field,
    desired: action.reason.desired,
    actual: action.reason.actual,
  };
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
) {
  return {
    manifests: pass.results.map((result) => resultJson(result, executed)),
    invalid,
    pruneSuspended: pass.plan.pruneSuspended?.message ?? null,
    awsCalls: { total: calls.total(), mutating: calls.mutating(), byOperation: calls.byOperation() },
    seconds,
  };
}

/** Human-readable plan: per manifest, each action with why. */
export function renderPlanText(pass: PassResult, invalid: readonly ManifestError[]): string {
  const lines: string[] = [];
  for (const error of invalid) lines.push(`invalid: ${formatManifestError(error)}`);
  for (const result of pass.results) {
    const actions = [...result.plan.actions, ...result.plan.pruneActions];
    const observe = result.mode === "observe";
    lines.push(
      `${result.manifest} (${result.mode}): ${actions.length === 0 ? "in sync" : `${actions.length} change(s)${observe ? " — drift only, observe mode changes nothing" : ""}`}`,
    );
    for (const action of actions) {
      const { resource, field, desired, actual } = action.reason;
      lines.push(`  ${observe ? "~" : "+"} ${describeAction(action)}`);
      lines.push(`      ${resource} ${field}: ${truncate(actual)} → ${truncate(desired)}`);
    }
    for (const error of result.errors) lines.push(`  ! ${error}`);
    for (const warning of result.warnings) lines.push(`  ? ${warning}`);
  }
  if (pass.plan.pruneSuspended !== undefined)
    lines.push(`removal held back: ${pass.plan.pruneSuspended.message}`);
  return lines.join("\n");
}

export function renderOutcomeLine(manifest: string, outcome: ActionOutcome): string {
  const mark = outcome.status === "done" ? "✓" : outcome.status === "skipped" ? "-" : "✗";
  const detail =
    outcome.status === "done" ? "" : `: ${outcome.errorCode ?? ""} ${outcome.error ?? ""}`.trimEnd();
  return `${mark} ${manifest}: ${outcome.description}${detail}`;
}

export function callSummary(calls: CallCounter): string {
  return `AWS calls: ${calls.total()} (${calls.mutating()} mutating)`;
}

function truncate(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
