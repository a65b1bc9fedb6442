// For each operation the adapters send, the requests AWS evaluates for it when rolecall sends it: the resource it
// acts on and the condition keys it carries. Kept beside the scan so an operation added to the adapters without a
// request here fails the controller-policy test instead of going unevaluated.
import type { Request } from "../support/iam-evaluator.js";
import { managedByValue, ownershipTagKeys } from "../../src/desired/ownership.js";
import { account, boundaryArn } from "./policy-files.js";

const own = (kind: "policy" | "role" | "instance-profile", name: string) =>
  `arn:aws:iam::${account}:${kind}/rolecall/${name}`;
export const ownPolicy = own("policy", "rolecall-dev-s3-read");
export const ownRole = own("role", "rolecall-dev-s3-read");
export const ownProfile = own("instance-profile", "rolecall-dev-s3-read");
/** A profile rolecall does not own, held by an instance rolecall takes over (onConflict: replace). */
export const foreignProfile = `arn:aws:iam::${account}:instance-profile/legacy-app`;
export const instance = `arn:aws:ec2:eu-west-1:${account}:instance/i-0123456789abcdef0`;
/** The lease table of leader election (--lease-table), as deploy/aws/lease-table.yaml names it. */
export const leaseTable = `arn:aws:dynamodb:eu-west-1:${account}:table/rolecall-lease`;
/** The queue of deploy/aws/instance-events.yaml, which the controller policies name. */
export const eventsQueue = `arn:aws:sqs:eu-west-1:${account}:rolecall-instance-events`;
export const ownershipTag = { [`aws:RequestTag/${ownershipTagKeys.managedBy}`]: managedByValue };

/** How rolecall runs: with --permissions-boundary every role it touches carries the boundary. */
export interface Running {
  readonly withBoundary: boolean;
}

type Requests = (running: Running) => readonly Request[];

const on =
  (resource: string, context: Readonly<Record<string, string>> = {}): Requests =>
  () => [{ action: "", resource, context }];

/** A role's boundary as AWS reports it in the iam:PermissionsBoundary key of calls on that role. */
const roleBoundary = ({ withBoundary }: Running): Record<string, string> =>
  withBoundary ? { "iam:PermissionsBoundary": boundaryArn } : {};

const requestsOf: Readonly<Record<string, Requests>> = {
  // A target's role, deployed with deploy/aws/rolecall-controller.yaml in the target's account.
  "sts:AssumeRole": on(
    "arn:aws:iam::111111111111:role/rolecall-controller/rolecall-RolecallControllerRole-1A2B3C",
  ),
  "iam:GetAccountAuthorizationDetails": on("*"),
  "iam:ListInstanceProfiles": on("*"),
  "iam:ListPolicies": on("*"),
  "ec2:DescribeInstances": on("*"),
  "ec2:DescribeIamInstanceProfileAssociations": on("*"),
  "iam:GetInstanceProfile": on(ownProfile),
  "iam:GetPolicy": on(ownPolicy),
  "iam:GetPolicyVersion": on(ownPolicy),
  "iam:ListPolicyTags": on(ownPolicy),
  "iam:GetRole": on(ownRole),
  "iam:ListAttachedRolePolicies": on(ownRole),
  "iam:ListRolePolicies": on(ownRole),
  "iam:CreatePolicy": on(ownPolicy, ownershipTag),
  "iam:CreatePolicyVersion": on(ownPolicy),
  "iam:DeletePolicyVersion": on(ownPolicy),
  "iam:DeletePolicy": on(ownPolicy),
  "iam:TagPolicy": on(ownPolicy),
  "iam:UntagPolicy": on(ownPolicy),
  "iam:CreateRole": (running) => [
    { action: "", resource: ownRole, context: { ...ownershipTag, ...roleBoundary(running) } },
  ],
  "iam:PutRolePermissionsBoundary": on(ownRole, { "iam:PermissionsBoundary": boundaryArn }),
  // Attached only after the boundary: a created role carries it from CreateRole, a taken-over one gets it first.
  "iam:AttachRolePolicy": (running) => [
    { action: "", resource: ownRole, context: { "iam:PolicyARN": ownPolicy, ...roleBoundary(running) } },
  ],
  // Detaching and deleting also run on roles without the boundary (created before it was configured), and
  // detaching removes whatever was attached by hand.
  "iam:DetachRolePolicy": on(ownRole, { "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess" }),
  "iam:DeleteRolePolicy": on(ownRole),
  "iam:DeleteRole": on(ownRole),
  "iam:TagRole": on(ownRole),
  "iam:UntagRole": on(ownRole),
  "iam:UpdateAssumeRolePolicy": on(ownRole),
  "iam:PassRole": on(ownRole, { "iam:PassedToService": "ec2.amazonaws.com" }),
  "iam:CreateInstanceProfile": on(ownProfile, ownershipTag),
  "iam:AddRoleToInstanceProfile": on(ownProfile),
  "iam:RemoveRoleFromInstanceProfile": on(ownProfile),
  "iam:DeleteInstanceProfile": on(ownProfile),
  "iam:TagInstanceProfile": on(ownProfile),
  "iam:UntagInstanceProfile": on(ownProfile),
  "ec2:AssociateIamInstanceProfile": on(instance, { "ec2:NewInstanceProfile": ownProfile }),
  // Replacing and disassociating also take instances over from profiles rolecall does not own.
  "ec2:ReplaceIamInstanceProfileAssociation": () => [
    {
      action: "",
      resource: instance,
      context: { "ec2:NewInstanceProfile": ownProfile, "ec2:InstanceProfile": ownProfile },
    },
    {
      action: "",
      resource: instance,
      context: { "ec2:NewInstanceProfile": ownProfile, "ec2:InstanceProfile": foreignProfile },
    },
  ],
  "dynamodb:GetItem": on(leaseTable),
  "dynamodb:PutItem": on(leaseTable),
  "sqs:ReceiveMessage": on(eventsQueue),
  "sqs:DeleteMessage": on(eventsQueue),
  "ec2:DisassociateIamInstanceProfile": () => [
    { action: "", resource: instance, context: { "ec2:InstanceProfile": ownProfile } },
    { action: "", resource: instance, context: { "ec2:InstanceProfile": foreignProfile } },
  ],
};

/** The requests of one operation, or undefined when this table does not know it (a test then fails). */
export function adapterRequests(operation: string, running: Running): readonly Request[] | undefined {
  const requests = requestsOf[operation];
  return requests?.(running).map((request) => ({ ...request, action: operation }));
}
