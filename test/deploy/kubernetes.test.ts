import { readFile } from "node:fs/promises";
import path from "node:path";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Namespace, Service, ServiceAccount } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../support/cli.js";

const directory = path.join(repoRoot, "deploy", "kubernetes");
const read = async <T>(file: string) => parse(await readFile(path.join(directory, file), "utf8")) as T;

/** Each object validated by kubernetes-models, against the Kubernetes (and Prometheus Operator) OpenAPI schemas. */
const models = {
  Namespace: (value: object) => new Namespace(value),
  ServiceAccount: (value: object) => new ServiceAccount(value),
  Deployment: (value: object) => new Deployment(value),
  PodDisruptionBudget: (value: object) => new PodDisruptionBudget(value),
  Service: (value: object) => new Service(value),
  ServiceMonitor: (value: object) => new ServiceMonitor(value as never),
} as const;

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

describe("deploy/kubernetes", () => {
  it("every file the kustomization lists is a valid object of its kind", async () => {
    const kustomization = await read<{ resources: string[] }>("kustomization.yaml");
    expect(kustomization.resources.length).toBe(6);
    for (const file of kustomization.resources) {
      const object = await read<{ kind: keyof typeof models; apiVersion: string }>(file);
      const model = models[object.kind];
      expect(model, `${file}: ${object.kind}`).toBeDefined();
      expect(() => {
        model(object).validate();
      }, file).not.toThrow();
    }
    // The validator does refuse a broken object.
    const deployment = await read<{ spec: { replicas: unknown } }>("deployment.yaml");
    deployment.spec.replicas = "one";
    expect(() => {
      models.Deployment(deployment).validate();
    }).toThrow(/replicas/);
  });

  it("two replicas sharing the lease, rolled one at a time, rolecall reading git-sync's checkout read-only", async () => {
    const deployment = await read<{
      spec: {
        replicas: number;
        strategy: { type: string; rollingUpdate?: { maxSurge: number; maxUnavailable: number } };
        selector: { matchLabels: Record<string, string> };
        template: {
          metadata: { labels: Record<string, string> };
          spec: { containers: Container[]; volumes: { name: string; emptyDir?: object }[] };
        };
      };
    }>("deployment.yaml");
    const { spec } = deployment;
    // Two controllers at once are safe only because they share a lease: only its holder writes.
    expect(spec.replicas).toBe(2);
    expect(spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
    const [rolecall, gitSync] = ["rolecall", "git-sync"].map((name) =>
      spec.template.spec.containers.find((container) => container.name === name),
    );
    expect(rolecall).toBeDefined();
    expect(gitSync?.image).toMatch(/^registry\.k8s\.io\/git-sync\/git-sync:v4\./);
    const shared = rolecall!.volumeMounts.find((mount) => mount.name === "manifests");
    const written = gitSync!.volumeMounts.find((mount) => mount.name === "manifests");
    expect(shared).toMatchObject({ readOnly: true });
    expect(written?.readOnly).not.toBe(true);
    expect(spec.template.spec.volumes.find((volume) => volume.name === "manifests")?.emptyDir).toBeDefined();
    // rolecall reads the link git-sync maintains, inside the shared volume.
    const root = /--root=([^"]+)/.exec(JSON.stringify(gitSync))?.[1];
    const link = /--link=(\w+)/.exec(JSON.stringify(gitSync))?.[1];
    const manifests = rolecall!.env?.find((variable) => variable.name === "ROLECALL_MANIFESTS")?.value;
    const leaseTable = rolecall!.env?.find((variable) => variable.name === "ROLECALL_LEASE_TABLE")?.value;
    expect(leaseTable, "the table deploy/aws/lease-table.yaml creates").toBe("rolecall-lease");
    expect(manifests?.startsWith(`${root}/${link}/`)).toBe(true);
    expect(manifests?.startsWith(`${shared!.mountPath}/`)).toBe(true);
    // Probes on the daemon's endpoints, by the port's name; hardened containers.
    expect(rolecall!.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(rolecall!.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(rolecall!.ports).toEqual([expect.objectContaining({ name: "http", containerPort: 8080 })]);
    for (const container of [rolecall!, gitSync!])
      expect(container.securityContext, container.name).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
  });

  it("a disruption budget lets a drain take one of the pair at a time, whatever the replica count", async () => {
    const deployment = await read<{
      spec: {
        replicas: number;
        strategy: { rollingUpdate: { maxSurge: number; maxUnavailable: number } };
        template: { metadata: { labels: Record<string, string> } };
      };
    }>("deployment.yaml");
    const budget = await read<{
      spec: {
        maxUnavailable?: number;
        minAvailable?: number;
        unhealthyPodEvictionPolicy?: string;
        selector: { matchLabels: Record<string, string> };
      };
    }>("poddisruptionbudget.yaml");
    expect(deployment.spec.template.metadata.labels).toMatchObject(budget.spec.selector.matchLabels);
    // As the disruption controller counts: evictions allowed = healthy pods - (replicas - maxUnavailable).
    const allowed = (replicas: number, healthy: number) =>
      Math.max(0, healthy - (replicas - (budget.spec.maxUnavailable ?? 0)));
    expect(budget.spec.minAvailable).toBeUndefined();
    expect(allowed(deployment.spec.replicas, 2)).toBe(1); // the pair: one at a time, never both
    expect(allowed(deployment.spec.replicas, 1)).toBe(0); // one already gone: the other stays
    expect(allowed(1, 1)).toBe(1); // scaled to one: a drain still proceeds
    expect(budget.spec.unhealthyPodEvictionPolicy).toBe("AlwaysAllow");
    // A rollout is not an eviction: it keeps both pods, surging a new one (a standby) before stopping an old one.
    const { maxSurge, maxUnavailable } = deployment.spec.strategy.rollingUpdate;
    expect(deployment.spec.replicas - maxUnavailable).toBeGreaterThanOrEqual(deployment.spec.replicas);
    expect(maxSurge).toBeGreaterThan(0);
  });

  it("the Service selects the pods and the ServiceMonitor scrapes the Service's port", async () => {
    const deployment = await read<{ spec: { template: { metadata: { labels: Record<string, string> } } } }>(
      "deployment.yaml",
    );
    const service = await read<{
      metadata: { name: string; labels: Record<string, string> };
      spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] };
    }>("service.yaml");
    const monitor = await read<{
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
    }>("servicemonitor.yaml");
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports).toEqual([expect.objectContaining({ name: "http", targetPort: "http" })]);
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: "http", path: "/metrics" })]);
    // The alert rules and the dashboard expect job="rolecall": the Operator names the job after the Service.
    expect(service.metadata.name).toBe("rolecall");
  });
});
