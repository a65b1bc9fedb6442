import type { ChildProcess } from "node:child_process";

export const repoRoot: string;

export interface SimDaemon {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Every line the daemon printed so far, in order, with the stream it came on. */
  readonly output: readonly { readonly stream: "stdout" | "stderr"; readonly line: string }[];
  /** SIGTERM, and the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SimDaemonOptions {
  /** --manifests; omitted: the daemon's default, or ROLECALL_MANIFESTS in env. */
  readonly manifests?: string;
  /** More arguments after `run --cloud sim --port PORT [--manifests DIR]`. */
  readonly args?: readonly string[];
  /** Node's own flags, before the script (as the container's ENTRYPOINT passes them). */
  readonly nodeFlags?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** `rolecall run --cloud sim` from dist/ on a free loopback port; resolves once /healthz answers. */
export function startSimDaemon(options: SimDaemonOptions): Promise<SimDaemon>;

export function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs?: number,
): Promise<T>;
