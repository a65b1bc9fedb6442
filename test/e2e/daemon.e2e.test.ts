import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { EC2Client } from "@aws-sdk/client-ec2";
import {
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetRoleCommand,
  ListRoleTagsCommand,
  RemoveRoleFromInstanceProfileCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Condition } from "../../src/status/conditions.js";
import type { ManifestStatusView, StatusDocument } from "../../src/status/status-store.js";
import { startDaemon, waitFor, type Daemon } from "../support/daemon.js";
import {
  attachedPolicyNames,
  defaultDocument,
  found,
  manifestYaml,
  profileRoleNames,
  profilesByInstance,
  tagMap,
  type ManifestSpec,
} from "../support/drift-kit.js";
import { launchInstances, motoClients, startMoto, type Moto } from "../support/moto.js";
import { runCliOnMoto } from "../support/moto-engine.js";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.js";
import { tempDirs } from "../support/temp-dir.js";

const token = "e2e-status-token";
const policyArn = (name: string) => `arn:aws:iam::123456789012:policy/rolecall/${name}`;
const resyncMs = 2000;
/** "Within one resync": the next resync starts at most resyncMs away; its reconcile gets this much on top. */
const oneResync = resyncMs + 4000;

function conditionOf(view: ManifestStatusView | undefined, type: Condition["type"]): Condition | undefined {
  return view?.conditions.find((condition) => condition.type === type);
}

/**
 * `rolecall run` as a child process against moto_server, driven through its manifests directory, AWS (changed
 * behind its back with the SDK) and its HTTP API. The steps build on each other, in order.
 */
let moto: Moto;
let iam: IAMClient;
let ec2: EC2Client;
const dirs = tempDirs("daemon-e2e");

beforeAll(async () => {
  moto = await startMoto();
  ({ iam, ec2 } = motoClients(moto));
});

afterAll(async () => {
  await moto.stop();
  await dirs.cleanup();
});

describe("rolecall run against moto_server", () => {
  let daemon: Daemon | undefined;
  let directory: string;
  const boxes: Record<string, string> = {};

  const specs: Record<string, ManifestSpec> = {
    alpha: { name: "alpha", matchTags: { Team: "alpha" } },
    beta: { name: "beta", matchTags: { Team: "beta" }, deletionPolicy: "delete" },
    gamma: { name: "gamma", matchTags: { Team: "gamma" }, deletionPolicy: "retain" },
    delta: { name: "delta", matchTags: { Team: "delta" } },
    epsilon: { name: "epsilon", matchTags: { Team: "epsilon" } },
  };
  const fileOf = (name: string) => path.join(directory, `${name}.yaml`);
  const write = (spec: ManifestSpec) => writeFile(fileOf(spec.name), manifestYaml(spec));

  const running = (): Daemon => {
    if (daemon === undefined) throw new Error("the daemon is not running");
    return daemon;
  };
  const status = () => running().json<StatusDocument>("/status");
  const manifest = async (name: string) => {
    const response = await running().get(`/status/${name}`);
    return response.ok ? ((await response.json()) as ManifestStatusView) : undefined;
  };
  const until = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000) =>
    waitFor(what, probe, { timeoutMs, context: () => running().logs() });
  /**
   * Waits until the manifest's current generation is reconciled and Ready (and returns its view); with `replacing`,
   * until a generation other than that one is (an edit takes a debounce and a reload to show up at all).
   */
  const ready = (name: string, replacing?: string | null, timeoutMs?: number) =>
    until(
      `${name} to be Ready${replacing === undefined ? "" : ` in a generation other than ${replacing}`}`,
      async () => {
        const view = await manifest(name);
        const condition = conditionOf(view, "Ready");
        return (
          condition?.status === "True" &&
          condition.observedGeneration === view?.generation &&
          view.generation !== replacing &&
          view
        );
      },
      timeoutMs,
    );
  /** Waits until at least `count` more full resyncs have finished. */
  const resyncs = async (count: number) => {
    const seen = new Set<string>();
    const first = (await status()).summary.lastResyncAt;
    await until(
      `${count} resync(s)`,
      async () => {
        const at = (await status()).summary.lastResyncAt;
        if (at !== null && at !== first) seen.add(at);
        return seen.size >= count;
      },
      (count + 1) * resyncMs + 4000,
    );
  };
  const roleExists = (name: string) => found(() => iam.send(new GetRoleCommand({ RoleName: name })));

  beforeAll(async () => {
    directory = await dirs.make();
    for (const name of Object.keys(specs)) {
      const [id = ""] = await launchInstances(ec2, { Team: name });
      boxes[name] = id;
    }
    for (const name of ["alpha", "beta", "gamma"]) await write(specs[name]!);
    daemon = await startDaemon({ moto, manifests: directory, statusToken: token });
  });

  afterAll(async () => {
    await daemon?.kill();
  });

  it("converges the manifests it starts with, then reports ready", async () => {
    await until("/readyz to answer 200", async () => (await running().get("/readyz")).status === 200);
    for (const name of ["alpha", "beta", "gamma"]) {
      const view = await ready(name);
      expect(view.instances).toEqual([
        { id: boxes[name], state: "running", association: "associated", profile: `rolecall-${name}` },
      ]);
      expect(view.resources.instanceProfileArn).toBe(
        `arn:aws:iam::123456789012:instance-profile/rolecall/rolecall-${name}`,
      );
      expect(view.file).toBe(fileOf(name));
    }
    expect(await profilesByInstance(ec2)).toEqual({
      [boxes.alpha!]: "rolecall-alpha",
      [boxes.beta!]: "rolecall-beta",
      [boxes.gamma!]: "rolecall-gamma",
    });
  });

  it("writing a manifest converges it and /status shows it Ready", async () => {
    await write(specs.delta!);
    const view = await ready("delta");
    expect(conditionOf(view, "Valid")?.status).toBe("True");
    expect(conditionOf(view, "Synced")).toMatchObject({ status: "True", reason: "Converged" });
    expect(view.lastReconcile?.result).toBe("converged");
    expect(view.lastReconcile?.actions.map((action) => action.status)).toContain("done");
    expect((await profilesByInstance(ec2))[boxes.delta!]).toBe("rolecall-delta");
    expect((await status()).summary).toMatchObject({ manifests: 4, ready: 4, invalid: 0 });
  });

  it("editing it re-converges it", async () => {
    const before = (await manifest("delta"))?.generation;
    const edited = {
      ...specs.delta!,
      grants: [{ bucket: "delta-edited-bucket", access: "read-write" as const }],
    };
    await write(edited);
    await ready("delta", before);
    expect(JSON.stringify(await defaultDocument(iam, policyArn("rolecall-delta")))).toContain(
      "delta-edited-bucket",
    );
    specs.delta = edited;
  });

  it("an invalid edit keeps the last good state in force and shows the error with file and line", async () => {
    const good = await manifest("delta");
    const file = fileOf("delta");
    const invalid = manifestYaml({
      ...specs.delta!,
      grants: [{ bucket: "delta-edited-bucket", access: "admin" as "read" }],
    });
    const line = invalid.split("\n").findIndex((text) => text.includes("admin")) + 1;
    await writeFile(file, invalid);

    const document = await until("the error in /status", async () => {
      const current = await status();
      return current.errors.length > 0 && current;
    });
    expect(document.errors).toEqual([
      expect.objectContaining({ file, line, pointer: "/spec/grants/0/access" }),
    ]);
    expect(document.errors[0]?.message).toContain('"admin"');
    expect(document.summary.invalid).toBe(1);
    const view = await manifest("delta");
    expect(view?.generation).toBe(good?.generation);
    expect(conditionOf(view, "Valid")).toMatchObject({ status: "False", reason: "ManifestInvalid" });
    expect(conditionOf(view, "Valid")?.message).toContain(`${file}:${line}:`);
    expect(conditionOf(view, "Valid")?.message).toContain(`(generation ${good?.generation}) stays in force`);

    // A file that does not even parse as YAML: still the last good version in force, still listed, not removed.
    await writeFile(file, `${manifestYaml(specs.delta!)}\n  broken: [unclosed\n`);
    await until("the YAML error to replace the schema error in /status", async () => {
      const errors = (await status()).errors;
      return errors.length > 0 && errors.every((error) => error.file === file && error.line > line);
    });
    await resyncs(1);
    const after = await status();
    expect(after.removed).toEqual([]);
    expect(after.manifests.map((entry) => entry.name)).toContain("delta");
    expect(after.errors[0]?.file).toBe(file);
    expect(conditionOf(await manifest("delta"), "Valid")?.status).toBe("False");
    // AWS still holds the last good version.
    expect(JSON.stringify(await defaultDocument(iam, policyArn("rolecall-delta")))).toContain(
      "delta-edited-bucket",
    );
    expect((await profilesByInstance(ec2))[boxes.delta!]).toBe("rolecall-delta");
    expect(await roleExists("rolecall-delta")).toBe(true);

    await write(specs.delta!);
    await until("the error to clear", async () => (await status()).errors.length === 0);
    await ready("delta");
  });

  it("drift made behind its back shows in /status in observe mode, and AWS is left alone", async () => {
    const observed = { ...specs.delta!, mode: "observe" as const };
    const enforced = (await manifest("delta"))?.generation;
    await write(observed);
    const watching = await ready("delta", enforced);
    expect(watching.mode).toBe("observe");
    expect(conditionOf(watching, "Drifted")).toMatchObject({ status: "False", reason: "NoDrift" });
    await iam.send(
      new DetachRolePolicyCommand({ RoleName: "rolecall-delta", PolicyArn: policyArn("rolecall-delta") }),
    );
    const view = await until(
      "the drift in /status",
      async () => {
        const current = await manifest("delta");
        return conditionOf(current, "Drifted")?.status === "True" && current;
      },
      oneResync,
    );
    expect(view.mode).toBe("observe");
    expect(conditionOf(view, "Drifted")?.reason).toBe("DriftDetected");
    expect(conditionOf(view, "Ready")?.status).toBe("False");
    const roleDrift = view.drift.filter((item) => item.resource === "role/rolecall-delta");
    expect(roleDrift.map((item) => item.desired).join()).toContain("rolecall-delta");
    expect((await status()).summary.drifted).toBe(1);
    await resyncs(1);
    expect(await attachedPolicyNames(iam, "rolecall-delta")).toEqual([]);

    // Back to enforce: repaired.
    await write(specs.delta!);
    await ready("delta", watching.generation);
    expect(await attachedPolicyNames(iam, "rolecall-delta")).toEqual(["rolecall-delta"]);
  });

  it("drift made behind its back is repaired in enforce mode within one resync", async () => {
    await iam.send(
      new RemoveRoleFromInstanceProfileCommand({
        InstanceProfileName: "rolecall-alpha",
        RoleName: "rolecall-alpha",
      }),
    );
    await iam.send(
      new DetachRolePolicyCommand({ RoleName: "rolecall-alpha", PolicyArn: policyArn("rolecall-alpha") }),
    );
    const started = performance.now();
    await until(
      "alpha's role back in its profile, its policy attached",
      async () =>
        (await profileRoleNames(iam, "rolecall-alpha")).join() === "rolecall-alpha" &&
        (await attachedPolicyNames(iam, "rolecall-alpha")).join() === "rolecall-alpha",
      oneResync,
    );
    expect(performance.now() - started).toBeLessThan(oneResync);
    const view = await ready("alpha");
    expect(view.lastReconcile?.actions.map((action) => action.description).join("\n")).toMatch(
      /attach|add role/,
    );
  });

  it("deleting a manifest prunes per its deletionPolicy: delete removes, retain keeps and tags orphaned", async () => {
    await rm(fileOf("beta"));
    await until(
      "beta's resources to be deleted",
      async () =>
        !(await roleExists("rolecall-beta")) &&
        !(await found(() =>
          iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "rolecall-beta" })),
        )) &&
        !(await found(() => iam.send(new GetPolicyCommand({ PolicyArn: policyArn("rolecall-beta") })))),
    );
    expect((await profilesByInstance(ec2))[boxes.beta!]).toBeUndefined();

    await rm(fileOf("gamma"));
    await until("gamma's role to be tagged orphaned", async () => {
      const tags = tagMap((await iam.send(new ListRoleTagsCommand({ RoleName: "rolecall-gamma" }))).Tags);
      return tags["rolecall.dev/orphaned"] === "true";
    });
    expect(await roleExists("rolecall-gamma")).toBe(true);
    expect(await profileRoleNames(iam, "rolecall-gamma")).toEqual(["rolecall-gamma"]);
    expect((await profilesByInstance(ec2))[boxes.gamma!]).toBe("rolecall-gamma");

    const document = await status();
    expect(document.manifests.map((view) => view.name)).toEqual(["alpha", "delta"]);
    expect(document.summary.manifests).toBe(2);
  });

  it("removing the whole directory deletes nothing, and /status says why", async () => {
    await rm(directory, { recursive: true, force: true });
    const notice = await until("the unreadable-directory notice", async () =>
      (await status()).notices.find((candidate) => candidate.reason === "ManifestsUnreadable"),
    );
    expect(notice.message).toContain("nothing is removed");
    await resyncs(2);
    for (const name of ["alpha", "delta"]) {
      expect(await roleExists(`rolecall-${name}`)).toBe(true);
      expect(await attachedPolicyNames(iam, `rolecall-${name}`)).toEqual([`rolecall-${name}`]);
    }
    expect(await profilesByInstance(ec2)).toMatchObject({
      [boxes.alpha!]: "rolecall-alpha",
      [boxes.delta!]: "rolecall-delta",
    });
    const document = await status();
    expect(document.summary.manifests).toBe(2);
    expect(document.removed).toEqual([]);

    // The directory comes back: the notice clears and changes are seen again.
    await mkdir(directory);
    await write(specs.alpha!);
    await write(specs.delta!);
    await until("the notice to clear", async () =>
      (await status()).notices.every((candidate) => candidate.reason !== "ManifestsUnreadable"),
    );
    const edited = { ...specs.alpha!, grants: [{ bucket: "alpha-after-restore", access: "read" as const }] };
    const before = (await manifest("alpha"))?.generation;
    await write(edited);
    await ready("alpha", before);
    expect(JSON.stringify(await defaultDocument(iam, policyArn("rolecall-alpha")))).toContain(
      "alpha-after-restore",
    );
    expect(await roleExists("rolecall-delta")).toBe(true);
  });

  it("/metrics parses as Prometheus text and counts the AWS calls", async () => {
    const response = await running().get("/metrics", {});
    expect(response.status).toBe(200);
    const exposition = parsePrometheusText(await response.text());
    const requests = (operation: string) =>
      sampleValue(exposition, "rolecall_aws_api_requests_total", { operation }) ?? 0;
    expect(requests("GetAccountAuthorizationDetails")).toBeGreaterThanOrEqual(3);
    expect(requests("DescribeInstances")).toBeGreaterThanOrEqual(3);
    expect(requests("CreateRole")).toBeGreaterThanOrEqual(4);
    expect(requests("AssociateIamInstanceProfile")).toBeGreaterThanOrEqual(4);
    expect(requests("DeleteRole")).toBeGreaterThanOrEqual(1);
    expect(sampleValue(exposition, "rolecall_aws_api_requests_total", { service: "iam" })).toBeGreaterThan(0);
    expect(sampleValue(exposition, "rolecall_aws_api_requests_total", { service: "ec2" })).toBeGreaterThan(0);
    expect(sampleValue(exposition, "rolecall_reconcile_total", { result: "converged" })).toBeGreaterThan(0);
    expect(sampleValue(exposition, "rolecall_drift_detected_total")).toBeGreaterThan(0);
    expect(sampleValue(exposition, "rolecall_manifests", { state: "valid" })).toBe(2);
    expect(sampleValue(exposition, "rolecall_last_resync_timestamp_seconds")).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );
    expect(sampleValue(exposition, "process_resident_memory_bytes")).toBeGreaterThan(0);

    // Counting, not just present: a resync adds its reads. Two: the first to end may have read before the scrape.
    const before = requests("GetAccountAuthorizationDetails");
    await resyncs(2);
    const later = parsePrometheusText(await (await running().get("/metrics", {})).text());
    expect(
      sampleValue(later, "rolecall_aws_api_requests_total", { operation: "GetAccountAuthorizationDetails" }),
    ).toBeGreaterThan(before);
  });

  it("/status with a token refuses a request without it", async () => {
    for (const headers of [{}, { authorization: "Bearer not-the-token" }]) {
      for (const url of ["/status", "/status/alpha"]) {
        const refused = await running().get(url, headers);
        expect(refused.status).toBe(401);
        expect(await refused.json()).toEqual({ error: "unauthorized" });
      }
    }
    expect((await running().get("/status")).status).toBe(200);
    expect((await running().get("/healthz", {})).status).toBe(200);
  });

  it("SIGTERM stops it promptly with exit code 0, and the next start converges what was left", async () => {
    await write(specs.epsilon!);
    // Loaded, so its reconcile is queued or under way when the signal arrives.
    await until("epsilon to be loaded", async () => (await manifest("epsilon")) !== undefined);
    const { code, signal, milliseconds } = await running().stop("SIGTERM");
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(milliseconds).toBeLessThan(10_000);
    expect(running().logs()).toContain('"msg":"stopped"');

    daemon = await startDaemon({ moto, manifests: directory, statusToken: token });
    await ready("epsilon");
    await ready("alpha");
    expect((await profilesByInstance(ec2))[boxes.epsilon!]).toBe("rolecall-epsilon");
  });
});

/**
 * With the resync ten minutes away, only the watcher can bring changes in: an edit is seen within about a
 * second, and so is a manifests directory deleted and created again. Configured through ROLECALL_* variables.
 */
describe("rolecall run: the watcher, with the resync out of the way", () => {
  let daemon: Daemon | undefined;
  let directory: string;
  let box: string;
  const spec: ManifestSpec = { name: "watched", matchTags: { Team: "watched" } };

  const running = (): Daemon => {
    if (daemon === undefined) throw new Error("the daemon is not running");
    return daemon;
  };
  const view = async () => {
    const response = await running().get("/status/watched");
    return response.ok ? ((await response.json()) as ManifestStatusView) : undefined;
  };
  /** Waits (at most `timeoutMs`) until a generation other than `replacing` is Ready; returns its view. */
  const readyAgain = (replacing: string | null | undefined, timeoutMs: number) =>
    waitFor(
      `watched to be Ready in a generation other than ${String(replacing)}`,
      async () => {
        const current = await view();
        const condition = conditionOf(current, "Ready");
        return (
          condition?.status === "True" &&
          condition.observedGeneration === current?.generation &&
          current.generation !== replacing &&
          current
        );
      },
      { timeoutMs, context: () => running().logs() },
    );
  const edit = (bucket: string) =>
    writeFile(
      path.join(directory, "watched.yaml"),
      manifestYaml({ ...spec, grants: [{ bucket, access: "read" }] }),
    );

  beforeAll(async () => {
    // The first daemon's resources would be orphans to this one (ownership tags are not scoped by IAM path).
    await moto.reset();
    directory = await dirs.make();
    [box = ""] = await launchInstances(ec2, { Team: "watched" });
    await edit("watched-one");
    daemon = await startDaemon({
      moto,
      manifests: directory,
      resync: false,
      env: { ROLECALL_RESYNC: "10m", ROLECALL_IAM_PATH: "/watcher/", ROLECALL_CONCURRENCY: "2" },
    });
  });

  afterAll(async () => {
    await daemon?.kill();
  });

  it("an edit is reconciled without waiting for the resync", async () => {
    const first = await readyAgain(undefined, 10_000);
    expect(first.resources.roleArn).toBe("arn:aws:iam::123456789012:role/watcher/rolecall-watched");
    expect((await profilesByInstance(ec2))[box]).toBe("rolecall-watched");
    await edit("watched-two");
    await readyAgain(first.generation, 3000);
    expect(
      JSON.stringify(await defaultDocument(iam, "arn:aws:iam::123456789012:policy/watcher/rolecall-watched")),
    ).toContain("watched-two");
  });

  it("a directory deleted and created again is watched again", async () => {
    const before = (await view())?.generation;
    await rm(directory, { recursive: true, force: true });
    await waitFor(
      "the unreadable-directory notice",
      async () =>
        (await running().json<StatusDocument>("/status")).notices.some(
          (notice) => notice.reason === "ManifestsUnreadable",
        ),
      { timeoutMs: 3000, context: () => running().logs() },
    );
    await mkdir(directory);
    await edit("watched-three");
    const restored = await readyAgain(before, 5000);
    const notices = (await running().json<StatusDocument>("/status")).notices;
    // Without --permissions-boundary the daemon says so; nothing else may remain.
    expect(
      notices.filter((notice) => notice.reason !== "NoPermissionsBoundary"),
      running().logs(),
    ).toEqual([]);

    await edit("watched-four");
    await readyAgain(restored.generation, 3000);
    expect(
      JSON.stringify(await defaultDocument(iam, "arn:aws:iam::123456789012:policy/watcher/rolecall-watched")),
    ).toContain("watched-four");
    expect((await profilesByInstance(ec2))[box]).toBe("rolecall-watched");
  });

  it("SIGINT stops it with exit code 0", async () => {
    const { code, milliseconds } = await running().stop("SIGINT");
    expect(code).toBe(0);
    expect(milliseconds).toBeLessThan(10_000);
  });
});

describe("rolecall run: start-up checks", () => {
  it("refuses an empty status token rather than locking /status for good", async () => {
    const directory = await dirs.make();
    for (const [args, env] of [
      [[], { ROLECALL_STATUS_TOKEN: "" }],
      [["--status-token", " "], {}],
    ] as const) {
      const run = await runCliOnMoto(moto, ["run", "--manifests", directory, "--port", "0", ...args], env);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain("the status token is empty");
    }
  });
});
