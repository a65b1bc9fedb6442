import type { Tags } from "./ownership.js";
import { selects, type DesiredAccess } from "./desired-access.js";

/**
 * Finds the manifests that select an instance without testing every manifest: each manifest is filed under its
 * instance IDs and under one of its matchTags pairs, so a lookup costs one probe per tag of the instance. With
 * 1,000 manifests and 2,000 instances that is thousands of probes instead of two million selector tests.
 */
export class SelectorIndex {
  private readonly byId = new Map<string, DesiredAccess[]>();
  private readonly byTag = new Map<string, DesiredAccess[]>();

  constructor(manifests: Iterable<DesiredAccess>) {
    for (const desired of manifests) {
      for (const id of desired.selector.instanceIds) push(this.byId, id, desired);
      const first = Object.entries(desired.selector.matchTags).sort(([a], [b]) => (a < b ? -1 : 1))[0];
      if (first !== undefined) push(this.byTag, tagKey(first[0], first[1]), desired);
    }
  }

  /** Manifests selecting this instance, each once, in a stable order. */
  selecting(instanceId: string, tags: Tags): DesiredAccess[] {
    const found = new Set<DesiredAccess>(this.byId.get(instanceId) ?? []);
    for (const [key, value] of Object.entries(tags)) {
      for (const desired of this.byTag.get(tagKey(key, value)) ?? []) {
        if (selects(desired.selector, instanceId, tags)) found.add(desired);
      }
    }
    return [...found].sort((a, b) => (a.manifest < b.manifest ? -1 : a.manifest > b.manifest ? 1 : 0));
  }
}

function tagKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function push(map: Map<string, DesiredAccess[]>, key: string, desired: DesiredAccess): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [desired]);
  else list.push(desired);
}
