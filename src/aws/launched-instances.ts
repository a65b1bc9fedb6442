import type { Ec2Caller } from "./region-router.js";
import { describeInstances, maxFilterValues } from "./ec2-read.js";

const minuteMs = 60_000;
const steps = [
  { ms: minuteMs, length: 16 }, // 2026-12-02T01:54*
  { ms: 60 * minuteMs, length: 13 }, // 2026-12-02T01*
  { ms: 24 * 60 * minuteMs, length: 10 }, // 2026-12-02*
] as const;

/**
 * `launch-time` filter values covering [since, until]: EC2 matches the ISO 8601 launch time with `*` wildcards, so
 * a window is a list of minute prefixes ("2026-12-02T01:54*"), or hour or day prefixes when a window is too long
 * for EC2's 200 values per call. Coarser prefixes only match more, never less: the caller ignores what it knows.
 */
export function launchTimePrefixes(since: number, until: number): string[] {
  for (const step of steps) {
    const first = Math.floor(since / step.ms);
    const last = Math.floor(until / step.ms);
    if (last - first + 1 > maxFilterValues && step !== steps[steps.length - 1]) continue;
    const prefixes: string[] = [];
    for (let slot = Math.max(first, last - maxFilterValues + 1); slot <= last; slot += 1)
      prefixes.push(`${new Date(slot * step.ms).toISOString().slice(0, step.length)}*`);
    return prefixes;
  }
  return [];
}

/**
 * The instances launched in [since, until] that are pending or running: one DescribeInstances (more only past
 * 1,000 matches), filtered by EC2 on launch time and state, so it returns only the newest instances, not the
 * fleet. EC2 has no "launched after" filter; wildcard prefixes of the launch time are its nearest equivalent.
 */
export async function readLaunchedInstances(
  ec2: Ec2Caller,
  since: number,
  until: number,
): Promise<{ id: string; state: string }[]> {
  const page = await describeInstances(ec2, [
    { Name: "launch-time", Values: launchTimePrefixes(since, until) },
    { Name: "instance-state-name", Values: ["pending", "running"] },
  ]);
  return page.instances.map((instance) => ({ id: instance.id, state: instance.state }));
}
