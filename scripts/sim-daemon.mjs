// `rolecall run --cloud sim` from dist/ as a child process on a free loopback port: the demo, for the browser
// tests, the deployment checks and the README's screenshot. Nothing here talks to AWS.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function startSimDaemon({ manifests, args = [], nodeFlags = [], env = {}, timeoutMs = 20_000 }) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      cli,
      "run",
      "--cloud",
      "sim",
      "--port",
      String(port),
      ...(manifests === undefined ? [] : ["--manifests", manifests]),
      ...args,
    ],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output = [];
  const collect = (stream) => (chunk) => {
    for (const line of chunk.toString().split("\n")) if (line !== "") output.push({ stream, line });
  };
  child.stdout.on("data", collect("stdout"));
  child.stderr.on("data", collect("stderr"));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) child.kill("SIGTERM");
    return exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running())
      throw new Error(`the daemon exited before serving:\n${output.map((entry) => entry.line).join("\n")}`);
    const healthy = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the daemon did not answer /healthz within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, port, child, output, stop };
}

/** Polls until `probe` returns something other than undefined or false; fails after `timeoutMs` saying what for. */
export async function waitUntil(what, probe, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
