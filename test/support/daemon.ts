import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { cliPath, repoRoot } from "./cli.js";
import { freePort, motoEnv, type Moto } from "./moto.js";

/** `rolecall run` as a child process against moto_server, on a free loopback port. */
export interface Daemon {
  readonly url: string;
  readonly child: ChildProcess;
  /** The last lines the daemon logged (stdout and stderr), for failure messages. */
  logs(): string;
  /** GET with the status token (when the daemon has one), unless `headers` says otherwise. */
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  json<T>(path: string): Promise<T>;
  /** Sends a signal and waits for the exit; resolves with how it ended and how long it took. */
  stop(
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; milliseconds: number }>;
  /** SIGKILL if still running (for afterAll, whatever happened). */
  kill(): Promise<void>;
}

export interface DaemonOptions {
  readonly moto: Moto;
  readonly manifests: string;
  /** Extra command-line arguments after the defaults (--resync 2s --debounce 100ms). */
  readonly args?: readonly string[];
  /** --resync; false leaves it to the environment or the default. Default "2s". */
  readonly resync?: string | false;
  readonly env?: NodeJS.ProcessEnv;
  /** Sent as a bearer token by get() and json(); also set as ROLECALL_STATUS_TOKEN. */
  readonly statusToken?: string;
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      cliPath,
      "run",
      "--manifests",
      options.manifests,
      "--port",
      String(port),
      ...(options.resync === false ? [] : ["--resync", options.resync ?? "2s"]),
      "--debounce",
      "100ms",
      ...(options.args ?? []),
    ],
    {
      cwd: repoRoot,
      env: {
        ...motoEnv(options.moto),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ...(options.statusToken === undefined ? {} : { ROLECALL_STATUS_TOKEN: options.statusToken }),
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const auth = (): Record<string, string> =>
    options.statusToken === undefined ? {} : { authorization: `Bearer ${options.statusToken}` };
  const daemon: Daemon = {
    url,
    child,
    logs: () => output.split("\n").slice(-40).join("\n"),
    get: (path, headers) => fetch(`${url}${path}`, { headers: headers ?? auth() }),
    json: async <T>(path: string) => {
      const response = await daemon.get(path);
      if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}: ${await response.text()}`);
      return (await response.json()) as T;
    },
    stop: async (signal = "SIGTERM") => {
      const started = performance.now();
      if (running()) child.kill(signal);
      const end = await exited;
      return { ...end, milliseconds: performance.now() - started };
    },
    kill: async () => {
      if (running()) child.kill("SIGKILL");
      await exited;
    },
  };
  try {
    await waitFor(
      "the daemon to answer /healthz",
      async () => {
        if (!running()) throw new Error(`the daemon exited before serving: ${daemon.logs()}`);
        try {
          return (await fetch(`${url}/healthz`)).ok;
        } catch {
          return false;
        }
      },
      { timeoutMs: 20_000 },
    );
  } catch (error) {
    await daemon.kill();
    throw error;
  }
  return daemon;
}

/**
 * Polls `probe` until it returns something other than undefined/false, or fails after `timeoutMs` saying what
 * it waited for. No fixed sleeps: the short interval only spaces the polls.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; context?: () => string } = {},
): Promise<T> {
  const deadline = performance.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) {
      const context = options.context === undefined ? "" : `\n${options.context()}`;
      throw new Error(`timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${what}${context}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
