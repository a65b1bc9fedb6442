import { CallCounter } from "../aws/call-observer.js";
import type { PassConfig } from "../config/options.js";
import type { PassResult } from "../engine/engine.js";
import { prepareTargets, type TargetWorld } from "../main/connect-targets.js";
import { formatManifestError } from "../manifest/manifest-error.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { exitCodes } from "./exit-codes.js";
import { manifestsOf } from "./prepare-run.js";
import { callSummary, renderPlanText } from "./render.js";
import { applySummaryText, applyWithRetries } from "./apply-pass.js";
import { targetJson, targetsRunJson } from "./target-json.js";

/**
 * plan or apply with --targets: the same pass per target, side by side (each with its own snapshot, plan,
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
  // Targets are independent (own account, own rate limits): their passes run side by side, their output in order.
  const unreachable = namesInUnreachableTargets(targets);
  const runs = await Promise.all(targets.map((world) => runOne(world, unreachable, execute, logger, text)));
  const sections = runs.map((run) => run.section);
  for (const run of runs) if (text) process.stdout.write(run.text);
  const units = runs.flatMap((run) =>
    run.pass === undefined ? [] : [...run.pass.results, ...run.pass.composites],
  );
  const failed =
    outside.length > 0 ||
    runs.some((run) => run.pass === undefined || run.world.set.errors.length > 0) ||
    units.some((unit) => unit.status === "failed");
  const pending = units.some((unit) => unit.status === "pending");
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

/** One target's pass (none when it cannot be reached), its JSON section and its text block. */
async function runOne(
  world: TargetWorld,
  unreachable: ReadonlySet<string>,
  execute: boolean,
  logger: Logger,
  text: boolean,
) {
  const started = Date.now();
  const lines: string[] = [];
  let pass: PassResult | undefined;
  if (world.reach.ok) {
    const own = manifestsOf(world.set);
    const manifests = { ...own, protectedNames: new Set([...own.protectedNames, ...unreachable]) };
    const write = text ? (line: string) => lines.push(line) : undefined;
    pass = execute
      ? await applyWithRetries(
          world.reach.engine,
          manifests,
          logger.child({ target: world.spec.name }),
          write,
        )
      : await world.reach.engine.run({ manifests, execute: false });
  }
  const body = lines.join("") + textOf(world, pass, execute, (Date.now() - started) / 1000);
  return {
    world,
    pass,
    section: targetJson(world, pass, execute),
    text: `${headerOf(world)}\n${indent(body)}`,
  };
}

/**
 * Manifests of targets that cannot be reached this run: a manifest just moved into such a target is not removed
 * from its old one, so a failure in one target never takes access away through another.
 */
function namesInUnreachableTargets(targets: readonly TargetWorld[]): ReadonlySet<string> {
  return new Set(
    targets
      .filter((world) => !world.reach.ok)
      .flatMap((world) => [
        ...world.set.manifests.map((manifest) => manifest.name),
        ...world.set.invalidNames,
      ]),
  );
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
