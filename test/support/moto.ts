import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { EC2Client, RunInstancesCommand, type Tag } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";

/** A moto_server of this test file's own, on a free loopback port. */
export interface Moto {
  readonly endpoint: string;
  readonly port: number;
  /** Clears every IAM and EC2 resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export const testRegion = "us-east-1";
export const testCredentials = { accessKeyId: "test", secretAccessKey: "test" };

/** The environment a rolecall child process needs to talk to this moto_server, and nothing real. */
export function motoEnv(moto: Moto): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
    AWS_REGION: testRegion,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

export async function freePort(): Promise<number> {
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
export async function startMoto(): Promise<Moto> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once("error", resolve);
      child.once("spawn", () => {
        resolve(undefined);
      });
    });
    if (spawned !== undefined) {
      throw new Error(
        `cannot start moto_server (${spawned.message}); the end-to-end tests need it: python3 -m pip install 'moto[server]'`,
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

async function waitUntilUp(endpoint: string, child: ChildProcess): Promise<boolean> {
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

function stopChild(child: ChildProcess): Promise<void> {
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

/** SDK clients pointed at moto with explicit settings, so tests never depend on the machine's AWS config. */
export function motoClients(moto: Moto): { iam: IAMClient; ec2: EC2Client } {
  const common = {
    endpoint: moto.endpoint,
    region: testRegion,
    credentials: testCredentials,
    maxAttempts: 1,
  };
  return { iam: new IAMClient(common), ec2: new EC2Client(common) };
}

/** Launches instances carrying the given tags; returns their IDs. */
export async function launchInstances(
  ec2: EC2Client,
  tags: Record<string, string>,
  count = 1,
): Promise<string[]> {
  const tagList: Tag[] = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const ids: string[] = [];
  // One instance per call: moto starts only MinCount instances when asked for a range.
  for (let index = 0; index < count; index += 1) {
    const output = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        ...(tagList.length === 0 ? {} : { TagSpecifications: [{ ResourceType: "instance", Tags: tagList }] }),
      }),
    );
    for (const instance of output.Instances ?? [])
      if (instance.InstanceId !== undefined) ids.push(instance.InstanceId);
  }
  return ids;
}
