import { CallCounter } from "../aws/call-observer.js";
import type { PassConfig } from "../config/options.js";
import type { PassResult } from "../engine/engine.js";
import { prepareTargets, type TargetWorld } from "../main/connect-targets.js";
import { formatManifestError } from "../manifest/manifest-error.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { exitCodes } from "./exit-codes.js";
import { manifestsOf } from "./prepare-run.js";
import { callSummary, renderPlanText } from "./render.js";
import { applySummaryText, applyWithRetries } from "./run-apply.js";
import { targetJson, targetsRunJson } from "./target-json.js";

/**
 * plan or apply with --targets: the same pass per target, one after another (each with its own snapshot, plan,
 * prune guard and calls); a target that cannot be reached is reported and the others go on.
 */
export async function runTargets(
  config: PassConfig & { readonly targets: string },
  execute: boolean,
): Promise<void> {
  const started = Date.now();
  const logger = createLogger(config.logLevel, process.stderr);
  const calls = new CallCounter();
  const { targets, outside } = await prepareTargets(config, calls, logger);
  const text = config.output === "text";
  if (text) for (const error of outside) process.stdout.write(`invalid: ${formatManifestError(error)}\n`);
  const sections = [];
  let failed = outside.length > 0;
  let pending = false;
  for (const world of targets) {
    const targetStarted = Date.now();
    if (text) process.stdout.write(`${headerOf(world)}\n`);
    const pass = world.reach.ok ? await passOf(world, execute, logger, text) : undefined;
    if (text) process.stdout.write(indent(textOf(world, pass, execute, (Date.now() - targetStarted) / 1000)));
    sections.push(targetJson(world, pass, execute));
    const units = pass === undefined ? [] : [...pass.results, ...pass.composites];
    failed ||=
      pass === undefined || world.set.errors.length > 0 || units.some((unit) => unit.status === "failed");
    pending ||= units.some((unit) => unit.status === "pending");
  }
  const seconds = (Date.now() - started) / 1000;
  if (text)
    process.stdout.write(`${targets.length} target(s) in ${seconds.toFixed(1)} s; ${callSummary(calls)}\n`);
  else
    process.stdout.write(JSON.stringify(targetsRunJson(sections, outside, calls, seconds), null, 2) + "\n");
  process.exitCode = failed
    ? exitCodes.failure
    : pending && !execute
      ? exitCodes.changesPending
      : exitCodes.ok;
}

function passOf(world: TargetWorld, execute: boolean, logger: Logger, text: boolean): Promise<PassResult> {
  if (!world.reach.ok) throw new Error("unreachable target has no pass");
  const manifests = manifestsOf(world.set);
  if (!execute) return world.reach.engine.run({ manifests, execute: false });
  const write = text ? (line: string) => process.stdout.write(`  ${line}`) : undefined;
  return applyWithRetries(world.reach.engine, manifests, logger.child({ target: world.spec.name }), write);
}

function headerOf(world: TargetWorld): string {
  const { name, account, regions } = world.spec;
  return `target ${name} (account ${account}; ${regions.join(", ")})`;
}

function textOf(world: TargetWorld, pass: PassResult | undefined, execute: boolean, seconds: number): string {
  if (pass === undefined)
    return `unavailable: ${world.reach.ok ? "" : world.reach.error.message}; nothing was read or changed\n`;
  if (execute) {
    const invalid = world.set.errors.map((error) => `invalid: ${formatManifestError(error)}\n`).join("");
    return invalid + applySummaryText(pass, world.calls, seconds);
  }
  const compiled = world.set.manifests.map((manifest) => manifest.desired);
  return `${renderPlanText(pass, world.set.errors, compiled)}\n${callSummary(world.calls)}\n`;
}

function indent(block: string): string {
  return block
    .split("\n")
    .map((line) => (line === "" ? line : `  ${line}`))
    .join("\n");
}
