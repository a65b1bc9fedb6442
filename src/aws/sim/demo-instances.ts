import type { SimInstanceSeed } from "./ec2-store.js";

/**
 * The instances `npm run demo` starts with, matching the selectors of the example manifests in manifests/:
 * dev-s3-read names i-070823c5d33601d4f; analytics-reports selects Team=analytics + Environment=prod (one
 * running, one stopped, one terminated that must be skipped, and a dev one that must not match);
 * staging-logs selects Environment=staging.
 */
export function demoInstances(): SimInstanceSeed[] {
  return [
    { id: "i-070823c5d33601d4f", state: "running", tags: { Name: "dev-box" } },
    {
      id: "i-0a1b2c3d4e5f60718",
      state: "running",
      tags: { Name: "analytics-worker-1", Team: "analytics", Environment: "prod" },
    },
    {
      id: "i-0a1b2c3d4e5f60729",
      state: "stopped",
      tags: { Name: "analytics-worker-2", Team: "analytics", Environment: "prod" },
    },
    {
      id: "i-0a1b2c3d4e5f6073a",
      state: "running",
      tags: { Name: "analytics-sandbox", Team: "analytics", Environment: "dev" },
    },
    { id: "i-0c4d5e6f708192a3b", state: "running", tags: { Name: "staging-web-1", Environment: "staging" } },
    { id: "i-0c4d5e6f708192a4c", state: "running", tags: { Name: "staging-web-2", Environment: "staging" } },
    {
      id: "i-0e9f8a7b6c5d4e3f2",
      state: "terminated",
      tags: { Name: "analytics-worker-old", Team: "analytics", Environment: "prod" },
    },
  ];
}
