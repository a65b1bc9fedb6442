import type { Tags } from "../desired/ownership.js";
import type { PolicyDocument } from "../desired/policy-document.js";

/** Why an action is needed: the resource, the field, and what was wanted versus found. */
export interface Reason {
  readonly resource: string;
  readonly field: string;
  readonly desired: string;
  readonly actual: string;
}

/**
 * A required ownership state, checked against freshly read tags right before a change to a resource whose tags
 * the snapshot did not include (managed policies): tags, not descriptions, decide what rolecall may change.
 */
export interface OwnershipExpectation {
  readonly manifest: string;
  readonly deletionPolicy?: "delete";
}

interface Base {
  /** The manifest this action serves (for removed manifests: the name they had). */
  readonly manifest: string;
  readonly reason: Reason;
}

export type Action = Base &
  (
    | {
        readonly kind: "createPolicy";
        readonly policyName: string;
        readonly path: string;
        readonly description: string;
        readonly document: PolicyDocument;
        readonly tags: Tags;
      }
    | {
        readonly kind: "createPolicyVersion";
        readonly policyName: string;
        readonly policyArn: string;
        readonly document: PolicyDocument;
        /** The live default version being replaced, as read (absent when unreadable): plan shows what changes. */
        readonly liveDocument?: unknown;
        readonly expectOwner?: OwnershipExpectation;
      }
    | {
        readonly kind: "deletePolicyVersion";
        readonly policyArn: string;
        readonly versionId: string;
        readonly expectOwner?: OwnershipExpectation;
      }
    | {
        readonly kind: "tagPolicy";
        readonly policyArn: string;
        readonly tags: Tags;
        readonly expectOwner?: OwnershipExpectation;
      }
    | {
        readonly kind: "untagPolicy";
        readonly policyArn: string;
        readonly keys: readonly string[];
        readonly expectOwner?: OwnershipExpectation;
      }
    | {
        readonly kind: "deletePolicy";
        readonly policyArn: string;
        readonly expectOwner?: OwnershipExpectation;
      }
    | {
        readonly kind: "createRole";
        readonly roleName: string;
        readonly path: string;
        readonly description: string;
        readonly trustPolicy: PolicyDocument;
        readonly tags: Tags;
        readonly permissionsBoundary?: string;
      }
    | {
        readonly kind: "putRolePermissionsBoundary";
        readonly roleName: string;
        readonly boundaryArn: string;
      }
    | {
        readonly kind: "updateAssumeRolePolicy";
        readonly roleName: string;
        readonly trustPolicy: PolicyDocument;
      }
    | { readonly kind: "tagRole"; readonly roleName: string; readonly tags: Tags }
    | { readonly kind: "untagRole"; readonly roleName: string; readonly keys: readonly string[] }
    | {
        readonly kind: "attachRolePolicy";
        readonly roleName: string;
        readonly policyName: string;
        /** Known when the policy exists already; otherwise taken from the createPolicy that precedes it. */
        readonly policyArn: string | undefined;
      }
    | { readonly kind: "detachRolePolicy"; readonly roleName: string; readonly policyArn: string }
    | { readonly kind: "deleteRolePolicy"; readonly roleName: string; readonly inlinePolicyName: string }
    | { readonly kind: "deleteRole"; readonly roleName: string }
    | {
        readonly kind: "createInstanceProfile";
        readonly profileName: string;
        readonly path: string;
        readonly tags: Tags;
      }
    | { readonly kind: "tagInstanceProfile"; readonly profileName: string; readonly tags: Tags }
    | {
        readonly kind: "untagInstanceProfile";
        readonly profileName: string;
        readonly keys: readonly string[];
      }
    | { readonly kind: "addRoleToInstanceProfile"; readonly profileName: string; readonly roleName: string }
    | {
        readonly kind: "removeRoleFromInstanceProfile";
        readonly profileName: string;
        readonly roleName: string;
      }
    | { readonly kind: "deleteInstanceProfile"; readonly profileName: string }
    | { readonly kind: "associateInstanceProfile"; readonly instanceId: string; readonly profileName: string }
    | {
        readonly kind: "replaceInstanceProfileAssociation";
        readonly instanceId: string;
        readonly associationId: string;
        readonly profileName: string;
      }
    | {
        readonly kind: "disassociateInstanceProfile";
        readonly instanceId: string;
        readonly associationId: string;
      }
  );

export type ActionKind = Action["kind"];

/** Actions that concern one instance: a failure there does not stop the rest of the manifest's plan. */
export function isInstanceAction(action: Action): boolean {
  return (
    action.kind === "associateInstanceProfile" ||
    action.kind === "replaceInstanceProfileAssociation" ||
    action.kind === "disassociateInstanceProfile"
  );
}

/** Actions that take access away or destroy something: never taken while pruning is suspended. */
export function isDestructive(action: Action): boolean {
  return (
    action.kind.startsWith("delete") ||
    action.kind === "disassociateInstanceProfile" ||
    action.kind === "removeRoleFromInstanceProfile" ||
    action.kind === "detachRolePolicy"
  );
}

/** A one-line, human description: "create policy DevS3ReadAccess". */
export function describeAction(action: Action): string {
  switch (action.kind) {
    case "createPolicy":
      return `create policy ${action.policyName}`;
    case "createPolicyVersion":
      return `set new default version of policy ${action.policyName}`;
    case "deletePolicyVersion":
      return `delete version ${action.versionId} of policy ${action.policyArn}`;
    case "tagPolicy":
      return `tag policy ${action.policyArn}`;
    case "untagPolicy":
      return `untag policy ${action.policyArn} (${action.keys.join(", ")})`;
    case "deletePolicy":
      return `delete policy ${action.policyArn}`;
    case "createRole":
      return `create role ${action.roleName}`;
    case "putRolePermissionsBoundary":
      return `set permissions boundary ${action.boundaryArn} on role ${action.roleName}`;
    case "updateAssumeRolePolicy":
      return `restore trust policy of role ${action.roleName}`;
    case "tagRole":
      return `tag role ${action.roleName}`;
    case "untagRole":
      return `untag role ${action.roleName} (${action.keys.join(", ")})`;
    case "attachRolePolicy":
      return `attach policy ${action.policyName} to role ${action.roleName}`;
    case "detachRolePolicy":
      return `detach policy ${action.policyArn} from role ${action.roleName}`;
    case "deleteRolePolicy":
      return `delete inline policy ${action.inlinePolicyName} of role ${action.roleName}`;
    case "deleteRole":
      return `delete role ${action.roleName}`;
    case "createInstanceProfile":
      return `create instance profile ${action.profileName}`;
    case "tagInstanceProfile":
      return `tag instance profile ${action.profileName}`;
    case "untagInstanceProfile":
      return `untag instance profile ${action.profileName} (${action.keys.join(", ")})`;
    case "addRoleToInstanceProfile":
      return `add role ${action.roleName} to instance profile ${action.profileName}`;
    case "removeRoleFromInstanceProfile":
      return `remove role ${action.roleName} from instance profile ${action.profileName}`;
    case "deleteInstanceProfile":
      return `delete instance profile ${action.profileName}`;
    case "associateInstanceProfile":
      return `associate instance profile ${action.profileName} with ${action.instanceId}`;
    case "replaceInstanceProfileAssociation":
      return `replace the instance profile of ${action.instanceId} with ${action.profileName}`;
    case "disassociateInstanceProfile":
      return `disassociate the instance profile of ${action.instanceId}`;
  }
}
