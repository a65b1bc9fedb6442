import { writeFile } from "node:fs/promises";
import path from "node:path";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isMutatingOperation } from "../../src/aws/call-observer.js";
import type { StatusDocument } from "../../src/status/status-store.js";
import { runCli } from "../support/cli.js";
import { createLeaseTable } from "../support/lease-table.js";
import { startDaemon, waitFor, type Daemon } from "../support/daemon.js";
import { manifestYaml, profilesByInstance } from "../support/drift-kit.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import {
  launchInstances,
  motoClients,
  startMoto,
  testCredentials,
  testRegion,
  type Moto,
} from "../support/moto.js";
import { parsePrometheusText } from "../support/prometheus-text.js";
import { tempDirs } from "../support/temp-dir.js";

const table = "rolecall-lease";
const leaseMs = 3000;
const leaseArgs = ["--lease-table", table, "--lease-duration", "3s", "--lease-renew", "1s"];

let moto: Moto;
let ec2: EC2Client;
let dynamodb: DynamoDBClient;
const dirs = tempDirs("failover-e2e");
const daemons: Daemon[] = [];
/** Each process's IAM and EC2 requests go through a proxy of its own: its mutating calls counted outside it. */
const proxyOf = new Map<Daemon, FaultProxy>();

beforeAll(async () => {
  moto = await startMoto();
  ({ ec2 } = motoClients(moto));
  dynamodb = new DynamoDBClient({
    endpoint: moto.endpoint,
    region: testRegion,
    credentials: testCredentials,
  });
  await createLeaseTable(moto, table);
});

afterAll(async () => {
  await Promise.allSettled(daemons.map((daemon) => daemon.kill()));
  await Promise.allSettled([...proxyOf.values()].map((proxy) => proxy.close()));
  await moto.stop();
  await dirs.cleanup();
});

/** Mutating IAM and EC2 requests this process sent, from its own /metrics (the lease's writes not counted). */
async function mutatingCalls(daemon: Daemon): Promise<number> {
  const exposition = parsePrometheusText(await (await daemon.get("/metrics")).text());
  return exposition.samples
    .filter(
      (sample) =>
        sample.name === "rolecall_aws_api_requests_total" &&
        sample.labels.service !== "dynamodb" &&
        isMutatingOperation(sample.labels.operation ?? ""),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

const leadership = async (daemon: Daemon) => (await daemon.json<StatusDocument>("/status")).leadership;
const context = () => daemons.map((daemon) => daemon.logs()).join("\n----\n");

async function leaderOf(candidates: readonly Daemon[], timeoutMs = 10_000): Promise<Daemon> {
  return waitFor(
    "one process to lead",
    async () => {
      for (const candidate of candidates)
        if ((await leadership(candidate))?.leading === true) return candidate;
      return undefined;
    },
    { timeoutMs, context },
  );
}

describe("two rolecall run processes with one lease table, on moto_server", () => {
  let directory: string;
  const instances: Record<string, string> = {};
  const start = async () => {
    const proxy = await startFaultProxy({ target: moto.endpoint, seed: 0 });
    const daemon = await startDaemon({
      moto,
      manifests: directory,
      args: leaseArgs,
      env: { AWS_ENDPOINT_URL: proxy.url, AWS_ENDPOINT_URL_DYNAMODB: moto.endpoint },
    }).catch(async (error: unknown) => {
      await proxy.close();
      throw error;
    });
    daemons.push(daemon);
    proxyOf.set(daemon, proxy);
    return daemon;
  };
  /** When moto's side saw this process's mutating IAM and EC2 requests arrive. */
  const arrivals = (daemon: Daemon) =>
    proxyOf
      .get(daemon)
      ?.mutatingArrivals()
      .map((arrival) => arrival.at) ?? [];
  const manifest = async (name: string) => {
    const [id] = await launchInstances(ec2, { Team: name });
    if (id === undefined) throw new Error("moto launched no instance");
    instances[name] = id;
    await writeFile(path.join(directory, `${name}.yaml`), manifestYaml({ name, matchTags: { Team: name } }));
  };
  const converged = (name: string, timeoutMs: number) =>
    waitFor(
      `${name}'s instance to hold its profile`,
      async () => (await profilesByInstance(ec2))[instances[name]!] === `rolecall-${name}`,
      { timeoutMs, intervalMs: 100, context },
    );
  let first: Daemon;
  let second: Daemon;

  it("lets exactly one of them make changes; the other is ready and says who leads", async () => {
    directory = await dirs.make();
    await manifest("one");
    [first, second] = await Promise.all([start(), start()]);
    const leader = await leaderOf([first, second]);
    const standby = leader === first ? second : first;
    await converged("one", 15_000);
    // A few more resyncs and renewals: the standby still writes nothing.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await mutatingCalls(leader)).toBeGreaterThan(0);
    expect(await mutatingCalls(standby)).toBe(0);
    // The same seen from outside the processes, on the way to moto.
    // (Read before the process's own count, which counts a request as it is sent, so can only be ahead.)
    const seenByMoto = arrivals(leader).length;
    expect(seenByMoto).toBeGreaterThan(0);
    expect(seenByMoto).toBeLessThanOrEqual(await mutatingCalls(leader));
    expect(arrivals(standby)).toEqual([]);
    expect((await standby.get("/readyz")).status).toBe(200);
    const seen = await leadership(standby);
    const own = await leadership(leader);
    expect(seen).toMatchObject({ leading: false, leader: own?.holderId, lease: { table, name: "rolecall" } });
    expect(seen?.since).toBe(own?.since);
    expect(Number.isNaN(Date.parse(seen?.since ?? ""))).toBe(false);
    const gauge = async (daemon: Daemon) =>
      parsePrometheusText(await (await daemon.get("/metrics")).text()).samples.find(
        (sample) => sample.name === "rolecall_leader",
      )?.value;
    expect([await gauge(leader), await gauge(standby)]).toEqual([1, 0]);
    first = leader;
    second = standby;
  });

  it("SIGKILL of the leader: the standby converges a new manifest within the lease and 5 s", async () => {
    await first.stop("SIGKILL");
    const killedAt = performance.now();
    await manifest("two");
    await converged("two", leaseMs + 5000);
    expect(performance.now() - killedAt).toBeLessThan(leaseMs + 5000);
    expect((await leadership(second))?.leading).toBe(true);
    // Exactly one wrote at any time: the standby only after the leader was gone.
    expect(arrivals(second).length).toBeGreaterThan(0);
    expect(Math.min(...arrivals(second))).toBeGreaterThan(killedAt);
    expect(Math.max(...arrivals(first))).toBeLessThan(killedAt);
  });

  it("SIGTERM of the leader: it releases the lease and the standby takes over within 2 s", async () => {
    const third = await start();
    await waitFor(
      "the new process to see the leader",
      async () => (await leadership(third))?.leader !== null,
      {
        context,
      },
    );
    expect((await leadership(third))?.leading).toBe(false);
    // rolecall status on the standby names the leader, in its table and in its JSON.
    const holder = (await leadership(second))?.holderId ?? "";
    const text = await runCli(["status", "--url", third.url]);
    expect(text.stdout).toContain(`leadership: standby, ${holder} leads since `);
    const json = await runCli(["status", "--url", third.url, "--output", "json"]);
    expect((JSON.parse(json.stdout) as { leadership: unknown }).leadership).toMatchObject({
      leading: false,
      leader: holder,
      lease: { table, name: "rolecall" },
    });
    const stopping = second.stop("SIGTERM");
    const sentAt = performance.now();
    await waitFor("the standby to lead", async () => (await leadership(third))?.leading === true, {
      timeoutMs: 2000,
      intervalMs: 25,
      context,
    });
    expect(performance.now() - sentAt).toBeLessThan(2000);
    expect((await stopping).code).toBe(0);
    await manifest("three");
    await converged("three", 10_000);
    expect(arrivals(third).length).toBeGreaterThan(0);
    expect(Math.min(...arrivals(third))).toBeGreaterThan(Math.max(...arrivals(second)));
    const item = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { id: { S: "rolecall" } }, ConsistentRead: true }),
    );
    expect(item.Item?.holder?.S).toBe((await leadership(third))?.holderId);
  });
});

describe("rolecall run --lease-table with a table that does not exist", () => {
  it("refuses to start, naming the table", async () => {
    const directory = await dirs.make();
    const started = startDaemon({ moto, manifests: directory, args: ["--lease-table", "no-such-table"] });
    await expect(started).rejects.toThrow(/lease table "no-such-table" does not exist/);
  });
});
