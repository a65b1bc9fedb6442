import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusEvent } from "../../src/status/status-event.js";
import type { StatusDocument } from "../../src/status/status-store.js";
import { createLeaseTable } from "../support/lease-table.js";
import { startDaemon, waitFor, type Daemon } from "../support/daemon.js";
import { manifestYaml } from "../support/drift-kit.js";
import { startMoto, type Moto } from "../support/moto.js";
import { tempDirs } from "../support/temp-dir.js";
import { startReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const table = "rolecall-lease";
const dirs = tempDirs("notify-standby-e2e");
const daemons: Daemon[] = [];
let moto: Moto;
let receiver: WebhookReceiver;

beforeAll(async () => {
  moto = await startMoto();
  receiver = await startReceiver();
  await createLeaseTable(moto, table);
});

afterAll(async () => {
  await Promise.all(daemons.map((daemon) => daemon.kill()));
  await receiver.close();
  await moto.stop();
  await dirs.cleanup();
});

const context = () => daemons.map((daemon) => daemon.logs()).join("\n----\n");
const invalidIn = async (daemon: Daemon) =>
  (await daemon.json<StatusDocument>("/status")).manifests.some((manifest) =>
    manifest.conditions.some((condition) => condition.reason === "ManifestInvalid"),
  );
const told = (type: StatusEvent["type"]) =>
  (receiver.bodies as StatusEvent[]).filter((event) => event.type === type).length;

describe("a leader and a standby notifying the same receiver, on moto_server", () => {
  it("only the leader sends: a file turned invalid, which both see, is told once", async () => {
    const directory = await dirs.make();
    await writeFile(
      path.join(directory, "one.yaml"),
      manifestYaml({ name: "one", matchTags: { Team: "one" } }),
    );
    const args = ["--lease-table", table, "--lease-duration", "3s", "--lease-renew", "1s"];
    for (let index = 0; index < 2; index += 1)
      daemons.push(
        await startDaemon({ moto, manifests: directory, args: [...args, "--notify-url", receiver.url] }),
      );
    await waitFor(
      "one leader and one standby",
      async () => {
        const views = await Promise.all(
          daemons.map(async (daemon) => (await daemon.json<StatusDocument>("/status")).leadership?.leading),
        );
        return views.filter((leading) => leading === true).length === 1 && views.includes(false);
      },
      { timeoutMs: 15_000, context },
    );

    await writeFile(
      path.join(directory, "one.yaml"),
      manifestYaml({ name: "one", matchTags: { Team: "one" } }).replace(
        "kind: InstanceAccess",
        "kind: Nonsense",
      ),
    );
    await waitFor(
      "both processes to see the file invalid",
      async () => (await invalidIn(daemons[0]!)) && (await invalidIn(daemons[1]!)),
      { timeoutMs: 10_000, context },
    );
    await waitFor("the receiver to be told", () => Promise.resolve(told("ManifestInvalid") > 0), {
      timeoutMs: 10_000,
      context,
    });
    // Both processes saw the file at about the same time; a second notification would be on its way by now.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(told("ManifestInvalid")).toBe(1);
  });
});
