import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { GetRoleCommand } from "@aws-sdk/client-iam";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, waitFor, type Daemon } from "../support/daemon.js";
import { found, manifestYaml, profilesByInstance } from "../support/drift-kit.js";
import { clientsInAccount } from "../support/moto-accounts.js";
import { launchInstances, motoClients, startMoto, type Moto } from "../support/moto.js";
import { parsePrometheusText } from "../support/prometheus-text.js";
import { tempDirs } from "../support/temp-dir.js";
import { startReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const prodAccount = "111111111111";
const devAccount = "222222222222";

interface Section {
  name: string;
  account: string;
  regions: string[];
  state: string;
  reachable: boolean;
  error?: { code: string; message: string; attempts: number };
  summary: { manifests: number; ready: number; lastResyncAt: string | null };
  manifests: { name: string }[];
}
interface TargetsDocument {
  targets: Section[];
  outside: { file: string; message: string }[];
  notices: { reason: string }[];
}

/** rolecall run --targets against moto: two accounts (one in two regions) and a target whose role is the wrong account's. */
describe("run --targets against moto_server", () => {
  let moto: Moto;
  let daemon: Daemon;
  let receiver: WebhookReceiver;
  let root: string;
  const dirs = tempDirs("targets-daemon");
  const instances: Partial<Record<string, string>> = {};
  type Clients = Awaited<ReturnType<typeof clientsInAccount>>;
  let prodUs: Clients;
  let prodEu: Clients;
  let dev: Clients;

  const document = () => daemon.json<TargetsDocument>("/status");
  const section = async (name: string) => (await document()).targets.find((target) => target.name === name);
  const context = () => daemon.logs();

  beforeAll(async () => {
    [moto, receiver] = await Promise.all([startMoto(), startReceiver()]);
    root = await dirs.make();
    [prodUs, prodEu, dev] = await Promise.all([
      clientsInAccount(moto, prodAccount, "us-east-1"),
      clientsInAccount(moto, prodAccount, "eu-west-1"),
      clientsInAccount(moto, devAccount, "us-east-1"),
    ]);
    [instances.prodUs] = await launchInstances(prodUs.ec2, { app: "web" });
    [instances.prodEu] = await launchInstances(prodEu.ec2, { app: "web" });
    [instances.prodKeep] = await launchInstances(prodUs.ec2, { app: "keep" });
    [instances.devApi] = await launchInstances(dev.ec2, { app: "api" });
    [instances.devWeb] = await launchInstances(dev.ec2, { app: "web" });
    [instances.own] = await launchInstances(motoClients(moto).ec2, { app: "web" });
    const targetsFile = path.join(root, "..", `${path.basename(root)}-targets.yaml`);
    await writeFile(
      targetsFile,
      stringify({
        apiVersion: "rolecall.dev/v1alpha1",
        kind: "Targets",
        targets: [
          {
            name: "prod",
            manifests: "prod",
            account: prodAccount,
            roleArn: `arn:aws:iam::${prodAccount}:role/rolecall-controller`,
            regions: ["us-east-1", "eu-west-1"],
          },
          {
            name: "dev",
            manifests: "dev",
            account: devAccount,
            roleArn: `arn:aws:iam::${devAccount}:role/rolecall-controller`,
            regions: ["us-east-1"],
          },
          {
            name: "broken",
            manifests: "broken",
            account: "333333333333",
            roleArn: "arn:aws:iam::444444444444:role/rolecall-controller",
            regions: ["us-east-1"],
          },
        ],
      }),
    );
    for (const dir of ["prod", "dev", "broken"]) await mkdir(path.join(root, dir));
    await writeFile(
      path.join(root, "prod", "web.yaml"),
      manifestYaml({ name: "web", matchTags: { app: "web" } }),
    );
    // Two manifests in prod: moving one away is not a mass removal, which the prune guard would hold back.
    await writeFile(
      path.join(root, "prod", "keep.yaml"),
      manifestYaml({ name: "keep", matchTags: { app: "keep" } }),
    );
    await writeFile(
      path.join(root, "dev", "api.yaml"),
      manifestYaml({ name: "api", matchTags: { app: "api" } }),
    );
    daemon = await startDaemon({
      moto,
      manifests: root,
      resync: "1s",
      args: ["--targets", targetsFile, "--notify-url", receiver.url],
    });
  }, 60_000);

  afterAll(async () => {
    await daemon.kill();
    await Promise.all([moto.stop(), receiver.close()]);
    await dirs.cleanup();
  });

  it("converges each reachable target's own instances and reports the unreachable one in /status and /readyz", async () => {
    await waitFor(
      "prod and dev to converge",
      async () => {
        const [us, eu, devProfiles] = await Promise.all([
          profilesByInstance(prodUs.ec2),
          profilesByInstance(prodEu.ec2),
          profilesByInstance(dev.ec2),
        ]);
        return (
          us[instances.prodUs ?? ""] === "rolecall-web" &&
          us[instances.prodKeep ?? ""] === "rolecall-keep" &&
          eu[instances.prodEu ?? ""] === "rolecall-web" &&
          devProfiles[instances.devApi ?? ""] === "rolecall-api"
        );
      },
      { timeoutMs: 20_000, context },
    );
    expect(await profilesByInstance(dev.ec2)).toEqual({ [instances.devApi ?? ""]: "rolecall-api" });
    expect(await profilesByInstance(motoClients(moto).ec2)).toEqual({});
    const readyz = await waitFor(
      "/readyz to answer 200",
      async () => {
        const response = await daemon.get("/readyz");
        return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
      },
      { timeoutMs: 10_000, context },
    );
    expect(readyz).toMatchObject({
      status: "ready",
      unavailable: [{ target: "broken", code: "AccountMismatch" }],
      waitingFor: [],
    });
    const broken = await section("broken");
    expect(broken).toMatchObject({
      reachable: false,
      state: "unavailable",
      error: { code: "AccountMismatch" },
    });
    expect(broken?.error?.message).toContain("444444444444, not the declared 333333333333");
    expect(await section("prod")).toMatchObject({
      account: prodAccount,
      regions: ["us-east-1", "eu-west-1"],
      reachable: true,
      manifests: [{ name: "keep" }, { name: "web" }],
    });
  }, 40_000);

  it("tells --notify-url receivers that the target is unavailable, once", async () => {
    const events = await waitFor("a TargetUnavailable notification", () => {
      const bodies = receiver.bodies as { type: string; target: string | null }[];
      const unavailable = bodies.filter((body) => body.type === "TargetUnavailable");
      return Promise.resolve(unavailable.length > 0 ? unavailable : undefined);
    });
    expect(events).toEqual([expect.objectContaining({ target: "broken", manifest: null })]);
  }, 20_000);

  it("serves every target's metrics in one valid exposition, labelled by target", async () => {
    const text = await (await daemon.get("/metrics")).text();
    const exposition = parsePrometheusText(text);
    const typeLines = text.split("\n").filter((line) => line.startsWith("# TYPE rolecall_reconcile_total "));
    expect(typeLines).toHaveLength(1);
    const targetsOf = (name: string) =>
      new Set(
        exposition.samples.filter((sample) => sample.name === name).map((sample) => sample.labels.target),
      );
    expect(targetsOf("rolecall_last_resync_timestamp_seconds")).toEqual(new Set(["prod", "dev", "broken"]));
    expect(targetsOf("rolecall_leader")).toEqual(new Set([undefined]));
    // AWS calls are counted where they are made: the unreachable target has made none to IAM or EC2.
    const iamCalls = exposition.samples.filter(
      (sample) => sample.name === "rolecall_aws_api_requests_total" && sample.labels.service === "iam",
    );
    expect(new Set(iamCalls.map((sample) => sample.labels.target))).toEqual(new Set(["prod", "dev"]));
  }, 20_000);

  it("each reachable target's queue-depth gauge returns to 0 between resyncs", async () => {
    const depths = async () =>
      parsePrometheusText(await (await daemon.get("/metrics")).text())
        .samples.filter((sample) => sample.name === "rolecall_workqueue_depth")
        .map((sample) => [sample.labels.target, sample.value] as const);
    await waitFor(
      "prod's and dev's queues to read empty",
      async () => {
        const seen = new Map(await depths());
        return seen.get("prod") === 0 && seen.get("dev") === 0;
      },
      { timeoutMs: 10_000, intervalMs: 100, context: () => daemon.logs() },
    );
  }, 20_000);

  it("a manifest moved from one target's directory to another's moves the access between accounts", async () => {
    await rename(path.join(root, "prod", "web.yaml"), path.join(root, "dev", "web.yaml"));
    await waitFor(
      "web to be in dev and gone from prod",
      async () => {
        const [us, eu, devProfiles] = await Promise.all([
          profilesByInstance(prodUs.ec2),
          profilesByInstance(prodEu.ec2),
          profilesByInstance(dev.ec2),
        ]);
        return (
          us[instances.prodUs ?? ""] === undefined &&
          eu[instances.prodEu ?? ""] === undefined &&
          devProfiles[instances.devWeb ?? ""] === "rolecall-web"
        );
      },
      { timeoutMs: 20_000, context },
    );
    expect(await found(() => dev.iam.send(new GetRoleCommand({ RoleName: "rolecall-web" })))).toBe(true);
    await waitFor(
      "prod's role to be removed",
      async () => !(await found(() => prodUs.iam.send(new GetRoleCommand({ RoleName: "rolecall-web" })))),
      { timeoutMs: 10_000, context },
    );
  }, 40_000);

  it("a manifest moved into the unreachable target is not removed from the target it left", async () => {
    await rename(path.join(root, "dev", "api.yaml"), path.join(root, "broken", "api.yaml"));
    const before = (await section("dev"))?.summary.lastResyncAt ?? "";
    // Two of dev's resyncs after the move: each would have removed api's access were it not protected.
    await waitFor(
      "two resyncs of dev after the move",
      async () => {
        const dev = await section("dev");
        return dev?.manifests.every((manifest) => manifest.name !== "api") === true &&
          (dev.summary.lastResyncAt ?? "") > before
          ? dev
          : undefined;
      },
      { timeoutMs: 10_000, context },
    );
    const seen = (await section("dev"))?.summary.lastResyncAt ?? "";
    await waitFor(
      "another resync of dev",
      async () => ((await section("dev"))?.summary.lastResyncAt ?? "") > seen,
      {
        timeoutMs: 10_000,
        context,
      },
    );
    expect(await profilesByInstance(dev.ec2)).toMatchObject({ [instances.devApi ?? ""]: "rolecall-api" });
    expect(await found(() => dev.iam.send(new GetRoleCommand({ RoleName: "rolecall-api" })))).toBe(true);
  }, 40_000);

  it("a file in no target's directory is shown in /status", async () => {
    await writeFile(
      path.join(root, "stray.yaml"),
      manifestYaml({ name: "stray", matchTags: { app: "none" } }),
    );
    const outside = await waitFor(
      "the stray file in /status",
      async () => {
        const { outside } = await document();
        return outside.length > 0 ? outside : undefined;
      },
      { timeoutMs: 10_000, context },
    );
    expect(outside[0]?.file).toMatch(/stray\.yaml$/);
    expect(outside[0]?.message).toContain("file is in no target's directory");
  }, 20_000);

  it("stops on SIGTERM, every target's controller with it", async () => {
    const end = await daemon.stop("SIGTERM");
    expect(end.code).toBe(0);
    expect(daemon.logs()).toContain('"msg":"stopped"');
  }, 20_000);
});
