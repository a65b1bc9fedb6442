import type { CallCounter } from "../aws/call-observer.js";
import type { PassResult } from "../engine/engine.js";
import type { ManifestError } from "../manifest/manifest-error.js";
import type { TargetWorld } from "../main/connect-targets.js";
import { passJson } from "./render.js";

/** One target's section of --output json: who and where, then the same fields a single-account pass has. */
export function targetJson(world: TargetWorld, pass: PassResult | undefined, executed: boolean) {
  const { name, account, regions } = world.spec;
  const identity = { name, account, regions: [...regions] };
  if (pass === undefined) {
    const error = world.reach.ok
      ? undefined
      : { code: world.reach.error.code, message: world.reach.error.message };
    return {
      ...identity,
      status: "unavailable" as const,
      error,
      manifests: [],
      composites: [],
      invalid: world.set.errors,
      pruneSuspended: null,
      awsCalls: callsJson(world.calls),
    };
  }
  // The revision is the whole run's (one directory), not a target's: only the top level says it.
  const noSource = { path: "", revision: null, revisionTime: null, subject: null };
  const {
    seconds: _seconds,
    source: _source,
    ...fields
  } = passJson(pass, world.set.errors, world.calls, executed, 0, noSource);
  return { ...identity, status: "ready" as const, ...fields };
}

/**
 * The whole run: the fields a single-account pass has (each manifest and composite with its `target`, every
 * invalid file, the total of calls), and `targets`, one section per target.
 */
export function targetsRunJson(
  sections: readonly ReturnType<typeof targetJson>[],
  outside: readonly ManifestError[],
  calls: CallCounter,
  seconds: number,
) {
  return {
    manifests: sections.flatMap((section) =>
      section.manifests.map((manifest) => ({ target: section.name, ...manifest })),
    ),
    composites: sections.flatMap((section) =>
      section.composites.map((composite) => ({ target: section.name, ...composite })),
    ),
    invalid: [...outside, ...sections.flatMap((section) => section.invalid)],
    pruneSuspended: sections.find((section) => section.pruneSuspended !== null)?.pruneSuspended ?? null,
    awsCalls: callsJson(calls),
    seconds,
    targets: sections,
  };
}

function callsJson(calls: CallCounter) {
  return { total: calls.total(), mutating: calls.mutating(), byOperation: calls.byOperation() };
}
