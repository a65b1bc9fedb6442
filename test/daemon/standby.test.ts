import { afterEach, describe, expect, it } from "vitest";
import { controllerHarnesses } from "../support/controller-harness.js";
import type { ManifestSpec } from "../support/drift-kit.js";

const instances = [{ id: "i-0aaaaaaaaaaaaaaa1", tags: { Team: "alpha" } }];
const alpha: ManifestSpec = { name: "alpha", matchTags: { Team: "alpha" } };
const harnesses = controllerHarnesses("standby");
afterEach(async () => {
  await harnesses.cleanup();
});

describe("a controller that does not hold the lease", () => {
  it("reads the manifests, is ready, and sends no AWS call at all; gaining the lease resyncs and converges", async () => {
    const lease = { leading: false };
    const h = await harnesses.start([alpha], {
      instances,
      leadership: { mayWrite: () => lease.leading },
    });
    await h.resync();
    await h.changed();
    expect(h.controller.isReady()).toBe(true);
    expect(h.sim.calls).toEqual([]);
    expect((await h.statusDocument()).summary.manifests).toBe(1);

    lease.leading = true;
    h.controller.leadershipChanged(true);
    await h.controller.resync();
    await h.controller.idle();
    expect(h.mutations()).toContain("ec2:AssociateIamInstanceProfile");
    const view = (await h.statusDocument()).manifests.find((manifest) => manifest.name === "alpha");
    expect(view?.conditions.find((condition) => condition.type === "Ready")?.status).toBe("True");
  });

  it("stops reconciling once the lease is lost: an edit then changes nothing", async () => {
    const lease = { leading: true };
    const h = await harnesses.start([alpha], { instances, leadership: { mayWrite: () => lease.leading } });
    await h.resync();
    expect(h.mutations().length).toBeGreaterThan(0);
    lease.leading = false;
    h.controller.leadershipChanged(false);
    await h.write({ ...alpha, grants: [{ bucket: "other-bucket", access: "write" }] });
    await h.changed();
    await h.resync();
    expect(h.mutations()).toEqual([]);
  });
});
