// Starting and stopping a moto_server of one's own, shared by the test suites and the benchmark scripts (which run
// as plain Node, so this is JavaScript with its types in moto-server.d.mts).
import { spawn } from "node:child_process";
import { createServer } from "node:net";

/** A free TCP port on the loopback interface. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** Starts moto_server and waits until it answers; fails loudly (never skips) when it is not installed. */
export async function startMoto() {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const spawned = await new Promise((resolve) => {
      child.once("error", resolve);
      child.once("spawn", () => {
        resolve(undefined);
      });
    });
    if (spawned !== undefined) {
      throw new Error(
        `cannot start moto_server (${spawned.message}); the end-to-end tests and benchmarks need it: python3 -m pip install 'moto[server]'`,
      );
    }
    const endpoint = `http://127.0.0.1:${port}`;
    if (await waitUntilUp(endpoint, child)) {
      return {
        endpoint,
        port,
        reset: async () => {
          const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
          if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
        },
        stop: () => stopChild(child),
      };
    }
    await stopChild(child);
    if (attempt >= 3) throw new Error(`moto_server did not come up on port ${port}: ${stderr}`);
  }
}

async function waitUntilUp(endpoint, child) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
