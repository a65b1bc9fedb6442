import type { Reason } from "../../plan/action.js";
import type { InstanceStatus, ManifestResources } from "../../plan/manifest-plan.js";
import { html, type Html } from "./html.js";
import type { Tone } from "./states.js";

/** Composite instance profiles (an instance selected by several manifests) are named with this prefix. */
const compositePrefix = "rolecall+";

/** A manifest selecting thousands of instances must not make its card, or the page, unreadable. */
const instancesShown = 50;

type ChainKind = "policy" | "role" | "instance-profile";

const associationTone: Readonly<Record<InstanceStatus["association"], Tone>> = {
  associated: "good",
  pending: "wait",
  conflict: "bad",
  excluded: "wait",
  retained: "none",
};

/** The last path segment of an IAM ARN: the resource's name. */
const arnName = (arn: string | undefined) =>
  arn === undefined ? undefined : arn.slice(arn.lastIndexOf("/") + 1);

/** Drift names a resource as `kind/name`; before anything exists, that is the only place its name is found. */
function driftName(drift: readonly Reason[], kind: ChainKind): string | undefined {
  const item = drift.find((candidate) => candidate.resource.startsWith(`${kind}/`));
  return item?.resource.slice(kind.length + 1);
}

function look(items: readonly Reason[], found: boolean): { label: string; tone: Tone } {
  if (items.some((item) => item.field === "exists" && item.actual === "absent"))
    return { label: "missing", tone: "bad" };
  if (items.length > 0)
    return { label: `drifted: ${items.map((item) => item.field).join(", ")}`, tone: "bad" };
  return found ? { label: "in place", tone: "good" } : { label: "not found", tone: "wait" };
}

function resourceNode(kind: ChainKind, arn: string | undefined, drift: readonly Reason[]): Html {
  const name = arnName(arn) ?? driftName(drift, kind);
  const items = name === undefined ? [] : drift.filter((item) => item.resource === `${kind}/${name}`);
  const { label, tone } = look(items, arn !== undefined);
  const kindLabel = kind === "instance-profile" ? "instance profile" : kind;
  return html`<span class="kind">${kindLabel}</span> <code>${name ?? "(unknown)"}</code>
    <span class="tag ${tone}">${label}</span>`;
}

function instanceList(
  instances: readonly InstanceStatus[],
  drift: readonly Reason[],
  empty = "no instance selected",
): Html {
  if (instances.length === 0)
    return html`<ul>
      <li class="muted">${empty}</li>
    </ul>`;
  const items = instances.slice(0, instancesShown).map((instance) => {
    const drifted = drift.some((item) => item.resource === `instance/${instance.id}`);
    return html`<li>
      <span class="kind">instance</span> <code>${instance.id}</code> ${instance.state}
      <span class="tag ${associationTone[instance.association]}">${instance.association}</span
      >${drifted ? html` <span class="tag bad">drifted</span>` : ""}
    </li>`;
  });
  const more = instances.length - instancesShown;
  return html`<ul>
    ${items}${more > 0 ? html`<li class="muted">and ${more} more (in the JSON)</li>` : ""}
  </ul>`;
}

function compositeNode(
  profile: string,
  instances: readonly InstanceStatus[],
  drift: readonly Reason[],
): Html {
  const members = [...new Set(instances.flatMap((instance) => instance.sharedWith ?? []))].sort();
  const links = members.map(
    (member, index) =>
      html`${index > 0 ? ", " : ""}<a href="/status/${encodeURIComponent(member)}">${member}</a>`,
  );
  return html`<li>
    <span class="kind">composite profile</span> <code>${profile}</code>
    <span class="muted">shared with ${links.length > 0 ? links : "(none)"}</span
    >${instanceList(instances, drift)}
  </li>`;
}

/**
 * The chain a manifest owns, as a tree: policy → role → instance profile → instances. An instance that several
 * manifests select holds a composite profile, whose role carries this manifest's policy too: it hangs off the
 * policy, with the manifests it is shared with.
 */
export function chainTree(
  resources: ManifestResources,
  instances: readonly InstanceStatus[],
  drift: readonly Reason[],
): Html {
  const composites = new Map<string, InstanceStatus[]>();
  const own: InstanceStatus[] = [];
  for (const instance of instances) {
    const profile = instance.profile;
    if (profile?.startsWith(compositePrefix) === true)
      composites.set(profile, [...(composites.get(profile) ?? []), instance]);
    else own.push(instance);
  }
  const compositeNodes = [...composites].map(([profile, members]) => compositeNode(profile, members, drift));
  return html`<ul class="tree">
    <li>
      ${resourceNode("policy", resources.policyArn, drift)}
      <ul>
        <li>
          ${resourceNode("role", resources.roleArn, drift)}${resources.permissionsBoundary === undefined ? "" : html` <span class="muted">boundary <code>${arnName(resources.permissionsBoundary)}</code></span>`}
          <ul>
            <li>
              ${resourceNode("instance-profile", resources.instanceProfileArn, drift)}${instanceList(own, drift, composites.size > 0 ? "every instance holds a composite" : undefined)}
            </li>
          </ul>
        </li>
        ${compositeNodes}
      </ul>
    </li>
  </ul>`;
}
