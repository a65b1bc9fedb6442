import { rename, symlink } from "node:fs/promises";
import path from "node:path";
import { DetachRolePolicyCommand, type IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusEvent } from "../../src/status/status-event.js";
import type { StatusDocument } from "../../src/status/status-store.js";
import { startDaemon, waitFor, type Daemon } from "../support/daemon.js";
import { manifestYaml, type ManifestSpec } from "../support/drift-kit.js";
import { addSyncWorktree, commitFiles, initRepo } from "../support/git-repo.js";
import { launchInstances, motoClients, startMoto, type Moto } from "../support/moto.js";
import { tempDirs } from "../support/temp-dir.js";
import { startReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const token = "notify-e2e-token";
const resyncMs = 2000;
/** "Within one resync": the next resync starts at most resyncMs away; its reconcile gets this much on top. */
const oneResync = resyncMs + 4000;
const alpha: ManifestSpec = { name: "alpha", matchTags: { Team: "alpha" } };

/** /events read in the background, each message's data parsed. */
function follow(daemon: Daemon): { events: StatusEvent[]; stop: () => Promise<void> } {
  const events: StatusEvent[] = [];
  const abort = new AbortController();
  const reading = (async () => {
    const response = await fetch(`${daemon.url}/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    let text = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += Buffer.from(chunk).toString();
      const blocks = text.split("\n\n");
      text = blocks.pop() ?? "";
      for (const block of blocks) {
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data !== undefined) events.push(JSON.parse(data) as StatusEvent);
      }
    }
  })().catch(() => undefined);
  return {
    events,
    stop: async () => {
      abort.abort();
      await reading;
    },
  };
}

const drifts = (events: readonly { type: string; manifest: string | null }[]) =>
  events.filter((event) => event.type.startsWith("Drift")).map((event) => `${event.type} ${event.manifest}`);

/**
 * A daemon on a git-sync style checkout (a link to a worktree per commit), notifying three receivers: one that
 * answers, one that always answers 500, one that never answers.
 */
describe("the revision in force and notifications, against moto_server", () => {
  let moto: Moto;
  let iam: IAMClient;
  let daemon: Daemon;
  let feed: ReturnType<typeof follow>;
  let good: WebhookReceiver;
  let failing: WebhookReceiver;
  let hanging: WebhookReceiver;
  let root: string;
  let first: string;
  const dirs = tempDirs("notify-e2e");
  const link = () => path.join(root, "current");
  const status = () => daemon.json<StatusDocument>("/status");

  beforeAll(async () => {
    moto = await startMoto();
    ({ iam } = motoClients(moto));
    await launchInstances(motoClients(moto).ec2, { Team: "alpha" });
    [good, failing, hanging] = [await startReceiver(), await startReceiver(), await startReceiver()];
    failing.answer(...Array<number>(100).fill(500));
    hanging.answer(...Array<"hang">(100).fill("hang"));
    root = path.join(await dirs.make(), "root");
    await initRepo(root);
    first = await commitFiles(root, { "manifests/alpha.yaml": manifestYaml(alpha) }, "Grant alpha");
    await symlink(addSyncWorktree(root, first), link());
    daemon = await startDaemon({
      moto,
      manifests: path.join(link(), "manifests"),
      statusToken: token,
      args: ["--notify-url", good.url, "--notify-url", failing.url, "--notify-url", hanging.url],
    });
    feed = follow(daemon);
  }, 60_000);

  afterAll(async () => {
    await feed.stop();
    await daemon.kill();
    await Promise.all([good, failing, hanging].map((receiver) => receiver.close()));
    await moto.stop();
    await dirs.cleanup();
  });

  it("reports the commit checked out in /status and in each reconcile; a cold create is no drift", async () => {
    const document = await waitFor("alpha to converge", async () => {
      const current = await status();
      return current.manifests[0]?.lastReconcile?.result === "converged" && current;
    });
    expect(document.source).toEqual({
      path: path.join(link(), "manifests"),
      revision: first,
      revisionTime: "2026-03-01T10:00:00.000Z",
      subject: "Grant alpha",
    });
    expect(document.manifests[0]?.history.map((record) => record.revision)).toContain(first);
    expect(drifts(good.bodies as StatusEvent[])).toEqual([]);
  });

  it("a policy detached by hand: one DriftDetected and one DriftRepaired, at the receiver and on /events", async () => {
    await iam.send(
      new DetachRolePolicyCommand({
        RoleName: "rolecall-alpha",
        PolicyArn: "arn:aws:iam::123456789012:policy/rolecall/rolecall-alpha",
      }),
    );
    const started = performance.now();
    await waitFor(
      "DriftRepaired at the receiver",
      () => Promise.resolve(drifts(good.bodies as StatusEvent[]).length >= 2),
      {
        timeoutMs: oneResync * 2,
        context: () => daemon.logs(),
      },
    );
    // Repaired within about one resync, while the receiver answering 500 and the one that never answers were
    // being sent the same events.
    expect(performance.now() - started).toBeLessThan(oneResync);
    expect(failing.requests()).toBeGreaterThanOrEqual(1);
    expect(hanging.requests()).toBeGreaterThanOrEqual(1);
    expect(drifts(good.bodies as StatusEvent[])).toEqual(["DriftDetected alpha", "DriftRepaired alpha"]);
    const detected = (good.bodies as StatusEvent[]).find((event) => event.type === "DriftDetected");
    expect(detected).toMatchObject({ manifest: "alpha", target: null, revision: first });
    expect(detected?.text).toContain("drift detected on alpha");
    await waitFor("the same on /events", () => Promise.resolve(drifts(feed.events).length >= 2));
    expect(drifts(feed.events)).toEqual(["DriftDetected alpha", "DriftRepaired alpha"]);
  });

  it("resyncs that find nothing new send nothing", async () => {
    const before = { good: good.bodies.length, feed: feed.events.length };
    const since = (await status()).summary.lastResyncAt;
    await waitFor(
      "two more resyncs",
      async () => {
        const at = (await status()).summary.lastResyncAt;
        return at !== null && since !== null && Date.parse(at) >= Date.parse(since) + 2 * resyncMs - 500;
      },
      { timeoutMs: oneResync * 2 },
    );
    expect(good.bodies.length).toBe(before.good);
    expect(feed.events.length).toBe(before.feed);
  });

  it("a git-sync style link swap to a new commit: the new revision after its reconcile", async () => {
    const widened: ManifestSpec = { ...alpha, grants: [{ bucket: "alpha-reports", access: "read-write" }] };
    const second = await commitFiles(
      root,
      { "manifests/alpha.yaml": manifestYaml(widened) },
      "Let alpha write",
    );
    await symlink(addSyncWorktree(root, second), `${link()}.next`);
    await rename(`${link()}.next`, link());
    const document = await waitFor(
      "alpha reconciled at the new commit",
      async () => {
        const current = await status();
        return current.manifests[0]?.lastReconcile?.revision === second && current;
      },
      { timeoutMs: oneResync * 2 },
    );
    expect(document.source?.revision).toBe(second);
    expect(document.source?.subject).toBe("Let alpha write");
    const revisions = document.manifests[0]?.history.map((record) => record.revision) ?? [];
    expect(revisions[0]).toBe(second);
    expect(revisions).toContain(first);
    // An edit is not drift.
    expect(drifts(good.bodies as StatusEvent[])).toEqual(["DriftDetected alpha", "DriftRepaired alpha"]);
  });

  it("counts sent and failed notifications, and never logs a receiver's secret", async () => {
    const metrics = await (await daemon.get("/metrics")).text();
    expect(metrics).toMatch(/^rolecall_notifications_sent_total\{type="DriftDetected"\} 1$/m);
    expect(metrics).toMatch(/^rolecall_drift_detected_total 1$/m);
    expect(daemon.logs()).not.toContain("s3cr3tT0ken");
    expect(JSON.stringify(await status())).not.toContain("s3cr3tT0ken");
  });
});
