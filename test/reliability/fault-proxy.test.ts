import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { classifyAwsError } from "../../src/aws/aws-error.js";
import {
  faultKinds,
  startFaultProxy,
  type FaultKind,
  type FaultProxy,
  type FaultProxyOptions,
} from "../support/fault-proxy.js";
import { mulberry32 } from "../support/seeded-random.mjs";

/**
 * The fault proxy itself, against a stand-in upstream that records what reaches it: the seeded choice of
 * requests, the shapes of the injected errors as the SDK and rolecall's classifier see them, before/after
 * forwarding, and kill points.
 */

let upstream: Server;
let upstreamUrl: string;
const reached: string[] = [];
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  upstream = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      reached.push(new URLSearchParams(body).get("Action") ?? "");
      response.writeHead(200, { "content-type": "text/xml" });
      response.end("<ok/>");
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

beforeEach(() => {
  reached.length = 0;
});

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

async function proxyWith(options: Omit<FaultProxyOptions, "target">): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ target: upstreamUrl, ...options });
  proxies.push(proxy);
  return proxy;
}

/** A raw query-protocol request, as the SDK sends it (IAM or EC2 by API version); resolves with the status. */
async function post(
  proxy: FaultProxy,
  action: string,
  parameters: Record<string, string> = {},
  service = "iam",
) {
  const version = service === "iam" ? "2010-05-08" : "2016-11-15";
  try {
    const response = await fetch(proxy.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ Action: action, Version: version, ...parameters }).toString(),
      signal: AbortSignal.timeout(1000),
    });
    await response.text();
    return response.status;
  } catch {
    return "no answer";
  }
}

const clientsFor = (proxy: FaultProxy) => {
  const common = {
    endpoint: proxy.url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
  };
  return { iam: new IAMClient(common), ec2: new EC2Client(common) };
};

describe("mulberry32", () => {
  it("is deterministic per seed and spreads over [0, 1)", () => {
    const first = mulberry32(42);
    const again = mulberry32(42);
    const other = mulberry32(43);
    const a = Array.from({ length: 1000 }, () => first());
    expect(Array.from({ length: 1000 }, () => again())).toEqual(a);
    expect(Array.from({ length: 1000 }, () => other())).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
    expect(a.filter((value) => value < 0.5).length).toBeGreaterThan(400);
    expect(a.filter((value) => value < 0.5).length).toBeLessThan(600);
  });
});

describe("which requests are faulted", () => {
  const requests = Array.from({ length: 120 }, (_, index) => `r${index}`);
  const faultedRoles = (proxy: FaultProxy) =>
    proxy
      .faults()
      .map(
        (fault) =>
          `${new URLSearchParams(fault.parameters).get("RoleName") ?? ""}:${fault.kind}:${fault.phase}`,
      )
      .sort();

  it("the same seed faults the same requests with the same faults, in whatever order they arrive", async () => {
    const inOrder = await proxyWith({ seed: 7, rate: 0.3, kinds: ["http500", "http503"] });
    for (const role of requests) await post(inOrder, "GetRole", { RoleName: role });
    const reversed = await proxyWith({ seed: 7, rate: 0.3, kinds: ["http500", "http503"] });
    for (const role of [...requests].reverse()) await post(reversed, "GetRole", { RoleName: role });
    expect(faultedRoles(inOrder).length).toBeGreaterThan(10);
    expect(faultedRoles(reversed)).toEqual(faultedRoles(inOrder));

    const otherSeed = await proxyWith({ seed: 8, rate: 0.3, kinds: ["http500", "http503"] });
    for (const role of requests) await post(otherSeed, "GetRole", { RoleName: role });
    expect(faultedRoles(otherSeed)).not.toEqual(faultedRoles(inOrder));
  });

  it("a repeated request (a retry) gets its own draw, so retries get through", async () => {
    const proxy = await proxyWith({ seed: 3, rate: 0.5, kinds: ["http500"] });
    const statuses = [];
    for (let attempt = 0; attempt < 20; attempt += 1)
      statuses.push(await post(proxy, "GetRole", { RoleName: "same" }));
    expect(statuses).toContain(200);
    expect(statuses).toContain(500);
  });

  it("faults about the configured fraction, every kind, both phases; throttling only before forwarding", async () => {
    const proxy = await proxyWith({ seed: 11, rate: 0.2, kinds: ["throttle", "http500", "http503"] });
    for (let index = 0; index < 600; index += 1) await post(proxy, "GetRole", { RoleName: `n${index}` });
    const share = proxy.faults().length / 600;
    expect(share).toBeGreaterThan(0.14);
    expect(share).toBeLessThan(0.26);
    const counts = proxy.countsByKind();
    for (const kind of ["throttle", "http500", "http503"] as const) expect(counts[kind]).toBeGreaterThan(10);
    expect(counts.drop + counts.delay).toBe(0);
    expect(proxy.faults().filter((fault) => fault.kind === "throttle" && fault.phase === "after")).toEqual(
      [],
    );
    expect(proxy.countsByPhase().after).toBeGreaterThan(10);
    expect(proxy.summary()).toContain("replay with FAULT_SEED=11");
  });

  it("rate 0 is a plain proxy; setRate and setSeed change it from then on", async () => {
    const proxy = await proxyWith({ seed: 1 });
    for (let index = 0; index < 50; index += 1)
      expect(await post(proxy, "GetRole", { RoleName: `p${index}` })).toBe(200);
    expect(proxy.faults()).toEqual([]);
    expect(reached).toHaveLength(50);
    proxy.setRate(1);
    proxy.setSeed(99);
    expect(proxy.seed).toBe(99);
    await post(proxy, "GetRole", { RoleName: "now" });
    expect(proxy.faults()).toHaveLength(1);
    expect(proxy.requests()).toMatchObject({ total: 51, mutating: 0 });
  });
});

describe("faults before and after forwarding", () => {
  it("before: the upstream never sees the request; after: it does, and the client still gets the fault", async () => {
    const before = await proxyWith({ seed: 1, rate: 1, kinds: ["http500"], phases: ["before"] });
    expect(await post(before, "CreateRole", { RoleName: "x" })).toBe(500);
    expect(reached).toEqual([]);
    const after = await proxyWith({ seed: 1, rate: 1, kinds: ["http503"], phases: ["after"] });
    expect(await post(after, "CreateRole", { RoleName: "x" })).toBe(503);
    expect(reached).toEqual(["CreateRole"]);
    const dropAfter = await proxyWith({ seed: 1, rate: 1, kinds: ["drop"], phases: ["after"] });
    expect(await post(dropAfter, "AttachRolePolicy", { RoleName: "x" })).toBe("no answer");
    expect(reached).toEqual(["CreateRole", "AttachRolePolicy"]);
  });
});

describe("the injected faults as the SDK and rolecall's classifier see them", () => {
  const classify = async (kind: FaultKind, service: "iam" | "ec2") => {
    const proxy = await proxyWith({ seed: 5, rate: 1, kinds: [kind], phases: ["before"], delayMs: 3000 });
    const { iam, ec2 } = clientsFor(proxy);
    const error = await (
      service === "iam"
        ? iam.send(new GetRoleCommand({ RoleName: "r" }))
        : ec2.send(new DescribeInstancesCommand({}))
    ).catch((caught: unknown) => caught);
    const operation = service === "iam" ? "GetRole" : "DescribeInstances";
    return { proxy, classified: classifyAwsError(error, { service, operation }) };
  };

  it("IAM throttling: Throttling, 400, throttled", async () => {
    const { classified } = await classify("throttle", "iam");
    expect(classified).toMatchObject({ kind: "throttled", code: "Throttling", httpStatus: 400 });
  });

  it("EC2 throttling: RequestLimitExceeded, 503, throttled", async () => {
    const { classified } = await classify("throttle", "ec2");
    expect(classified).toMatchObject({ kind: "throttled", code: "RequestLimitExceeded", httpStatus: 503 });
  });

  it("500 and 503 with HTML bodies: transient, coded by status", async () => {
    expect((await classify("http500", "iam")).classified).toMatchObject({
      kind: "transient",
      httpStatus: 500,
    });
    expect((await classify("http503", "ec2")).classified).toMatchObject({
      kind: "transient",
      httpStatus: 503,
    });
  });

  it("a dropped connection: transient", async () => {
    expect((await classify("drop", "iam")).classified).toMatchObject({ kind: "transient" });
  });

  it("an answer held past the client's timeout: the client gives up (transient), and the proxy counts that", async () => {
    const { proxy, classified } = await classify("delay", "ec2");
    expect(classified).toMatchObject({ kind: "transient" });
    await expect.poll(() => proxy.delays().abandonedByClient).toBe(1);
    expect(proxy.delays().outwaitedByProxy).toBe(0);
  });

  it("every kind is covered above", () => {
    expect([...faultKinds].sort()).toEqual(["delay", "drop", "http500", "http503", "throttle"]);
  });
});

describe("kill points", () => {
  it("fires at the k-th mutating request (reads do not count); before: that request never reaches the upstream", async () => {
    const proxy = await proxyWith({ seed: 1 });
    let killed = 0;
    const fired = proxy.armKill({ atMutating: 2, phase: "before", kill: () => (killed += 1) });
    expect(await post(proxy, "CreatePolicy", { PolicyName: "a" })).toBe(200);
    expect(await post(proxy, "GetPolicy", { PolicyArn: "x" })).toBe(200);
    expect(await post(proxy, "ListRoles")).toBe(200);
    expect(killed).toBe(0);
    expect(await post(proxy, "CreateRole", { RoleName: "b" })).toBe("no answer");
    expect(killed).toBe(1);
    expect(await fired).toEqual({ atMutating: 2, phase: "before", service: "iam", action: "CreateRole" });
    expect(reached).toEqual(["CreatePolicy", "GetPolicy", "ListRoles"]);
    // Fired once: later requests pass.
    expect(await post(proxy, "CreateInstanceProfile", { InstanceProfileName: "c" })).toBe(200);
    expect(killed).toBe(1);
    expect(proxy.requests()).toMatchObject({ total: 5, mutating: 3 });
  });

  it("after: the upstream applies the request, then the process is killed without the answer", async () => {
    const proxy = await proxyWith({ seed: 1 });
    let killed = 0;
    const fired = proxy.armKill({ atMutating: 1, phase: "after", kill: () => (killed += 1) });
    expect(await post(proxy, "AssociateIamInstanceProfile", { InstanceId: "i-1" }, "ec2")).toBe("no answer");
    expect(await fired).toMatchObject({ atMutating: 1, phase: "after", service: "ec2" });
    expect(killed).toBe(1);
    expect(reached).toEqual(["AssociateIamInstanceProfile"]);
  });

  it("a kill point the run never reaches can be disarmed", async () => {
    const proxy = await proxyWith({ seed: 1 });
    void proxy.armKill({ atMutating: 5, phase: "before", kill: () => undefined });
    await post(proxy, "CreateRole", { RoleName: "a" });
    expect(proxy.disarmKill()).toBe(true);
    expect(proxy.disarmKill()).toBe(false);
    expect(() => proxy.armKill({ atMutating: 0, phase: "before", kill: () => undefined })).toThrow(
      /positive/,
    );
  });
});
