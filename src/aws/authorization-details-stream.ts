import type {
  GetAccountAuthorizationDetailsCommand,
  GetAccountAuthorizationDetailsCommandOutput,
  InstanceProfile,
  ManagedPolicyDetail,
  PolicyVersion,
  RoleDetail,
  Tag,
} from "@aws-sdk/client-iam";
import { ownCopy } from "../util/own-copy.js";
import { profileFields } from "./instance-profiles-stream.js";
import { foldResponse, xmlBoolean, XmlPathFold, type Mutable } from "./xml-path-fold.js";

/** The part of a GetAccountAuthorizationDetails page a pass reads, in the SDK's own shapes. */
export type AuthorizationDetailsPage = Pick<
  GetAccountAuthorizationDetailsCommandOutput,
  "RoleDetailList" | "Policies" | "IsTruncated" | "Marker"
>;

// Element paths in IAM's answer. A role holds profiles that hold roles, and `member`, `Path`, `Arn` and `Tags`
// occur at every depth, so each field is matched by its whole path.
const result = "GetAccountAuthorizationDetailsResponse/GetAccountAuthorizationDetailsResult";
const role = `${result}/RoleDetailList/member`;
const profile = `${role}/InstanceProfileList/member`;
const policy = `${result}/Policies/member`;
const version = `${policy}/PolicyVersionList/member`;

type Setter<T> = (target: Mutable<T>, text: string) => void;

const roleFields: Record<string, Setter<RoleDetail>> = {
  Path: (target, text) => (target.Path = ownCopy(text)),
  RoleName: (target, text) => (target.RoleName = ownCopy(text)),
  Arn: (target, text) => (target.Arn = ownCopy(text)),
  AssumeRolePolicyDocument: (target, text) => (target.AssumeRolePolicyDocument = ownCopy(text)),
  "AttachedManagedPolicies/member/PolicyArn": (target, text) =>
    (target.AttachedManagedPolicies ??= []).push({ PolicyArn: ownCopy(text) }),
  "RolePolicyList/member/PolicyName": (target, text) =>
    (target.RolePolicyList ??= []).push({ PolicyName: ownCopy(text) }),
  "PermissionsBoundary/PermissionsBoundaryArn": (target, text) =>
    (target.PermissionsBoundary = { PermissionsBoundaryArn: ownCopy(text) }),
};

const policyFields: Record<string, Setter<ManagedPolicyDetail>> = {
  PolicyName: (target, text) => (target.PolicyName = ownCopy(text)),
  Arn: (target, text) => (target.Arn = ownCopy(text)),
  Path: (target, text) => (target.Path = ownCopy(text)),
  Description: (target, text) => (target.Description = ownCopy(text)),
  DefaultVersionId: (target, text) => (target.DefaultVersionId = ownCopy(text)),
};

const versionFields: Record<string, Setter<PolicyVersion>> = {
  VersionId: (target, text) => (target.VersionId = ownCopy(text)),
  Document: (target, text) => (target.Document = ownCopy(text)),
  IsDefaultVersion: (target, text) => (target.IsDefaultVersion = parseBoolean(text)),
  CreateDate: (target, text) => (target.CreateDate = parseDate(text)),
};

/** Every path the fold reads: the elements it starts a resource at and the fields it keeps. */
const declaredPaths = [
  `${result}/IsTruncated`,
  `${result}/Marker`,
  role,
  profile,
  policy,
  version,
  `${profile}/Tags`,
  ...[role, profile].flatMap((owner) => [
    `${owner}/Tags/member`,
    `${owner}/Tags/member/Key`,
    `${owner}/Tags/member/Value`,
  ]),
  ...Object.keys(roleFields).map((field) => `${role}/${field}`),
  ...Object.keys(profileFields).map((field) => `${profile}/${field}`),
  ...Object.keys(policyFields).map((field) => `${policy}/${field}`),
  ...Object.keys(versionFields).map((field) => `${version}/${field}`),
];

const parseBoolean = (text: string) => xmlBoolean("GetAccountAuthorizationDetails", text);

function parseDate(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new Error(`GetAccountAuthorizationDetails answered ${JSON.stringify(text)} for a date`);
  return date;
}

/**
 * A GetAccountAuthorizationDetails page folded as it streams in, down to the fields the snapshot reads: at 1,000
 * roles and 1,000 policies a page is about 4 MB of XML, which the SDK turns into a string and a tree of every
 * field (role last used, attachment counts, every profile's copy of its role) before mapping it.
 */
export class AuthorizationDetailsFold extends XmlPathFold<AuthorizationDetailsPage> {
  private readonly page: Mutable<AuthorizationDetailsPage> = { IsTruncated: false };
  private role: Mutable<RoleDetail> | undefined;
  private profile: Mutable<InstanceProfile> | undefined;
  private policy: Mutable<ManagedPolicyDetail> | undefined;
  private version: Mutable<PolicyVersion> | undefined;
  private tag: Mutable<Tag> | undefined;

  constructor() {
    super("GetAccountAuthorizationDetails", "GetAccountAuthorizationDetailsResponse", declaredPaths);
  }

  protected opened(path: string): void {
    if (path === role) this.role = {};
    else if (path === profile) this.profile = {} as Mutable<InstanceProfile>;
    else if (path === policy) this.policy = {};
    else if (path === version) this.version = {};
    // A profile's Tags element, even empty, says its tags were listed (the snapshot tells that from absent).
    else if (path === `${profile}/Tags` && this.profile !== undefined) this.profile.Tags = [];
    else if (path === `${role}/Tags/member` || path === `${profile}/Tags/member`)
      this.tag = {} as Mutable<Tag>;
  }

  protected closed(path: string, text: string): void {
    if (path === `${result}/IsTruncated`) this.page.IsTruncated = parseBoolean(text);
    else if (path === `${result}/Marker`) this.page.Marker = ownCopy(text);
    else if (path.startsWith(`${version}/`)) this.set(versionFields, this.version, path, version, text);
    else if (path.startsWith(`${policy}/`)) this.closedInPolicy(path, text);
    else if (path.startsWith(`${profile}/`)) this.closedInProfile(path, text);
    else if (path.startsWith(`${role}/`)) this.closedInRole(path, text);
    else if (path === role) this.closedRole();
    else if (path === policy) this.closedPolicy();
  }

  private closedInRole(path: string, text: string): void {
    if (this.role === undefined) return;
    if (path === profile) this.closedProfile(this.role);
    else if (path === `${role}/Tags/member`) this.closedTag((this.role.Tags ??= []));
    else if (!this.closedTagField(path, `${role}/Tags/member`, text))
      this.set(roleFields, this.role, path, role, text);
  }

  private closedInProfile(path: string, text: string): void {
    if (this.profile === undefined || this.role === undefined) return;
    if (path === `${profile}/Tags/member`) this.closedTag((this.profile.Tags ??= []));
    else if (!this.closedTagField(path, `${profile}/Tags/member`, text))
      this.set(profileFields, this.profile, path, profile, text);
  }

  private closedInPolicy(path: string, text: string): void {
    if (this.policy === undefined) return;
    if (path === version) {
      if (this.version !== undefined) (this.policy.PolicyVersionList ??= []).push(this.version);
      this.version = undefined;
    } else this.set(policyFields, this.policy, path, policy, text);
  }

  private closedProfile(into: Mutable<RoleDetail>): void {
    if (this.profile !== undefined) (into.InstanceProfileList ??= []).push(this.profile);
    this.profile = undefined;
  }

  private closedRole(): void {
    if (this.role !== undefined) (this.page.RoleDetailList ??= []).push(this.role);
    this.role = undefined;
  }

  private closedPolicy(): void {
    if (this.policy !== undefined) (this.page.Policies ??= []).push(this.policy);
    this.policy = undefined;
  }

  private closedTagField(path: string, tagPath: string, text: string): boolean {
    if (this.tag === undefined) return false;
    if (path === `${tagPath}/Key`) this.tag.Key = ownCopy(text);
    else if (path === `${tagPath}/Value`) this.tag.Value = ownCopy(text);
    else return false;
    return true;
  }

  private closedTag(into: Tag[]): void {
    if (this.tag !== undefined) into.push(this.tag);
    this.tag = undefined;
  }

  private set<T>(
    fields: Record<string, Setter<T>>,
    target: Mutable<T> | undefined,
    path: string,
    base: string,
    text: string,
  ): void {
    if (target !== undefined) fields[path.slice(base.length + 1)]?.(target, text);
  }

  protected result(): AuthorizationDetailsPage {
    return this.page;
  }
}

const foldedBody =
  '<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountAuthorizationDetailsResult><IsTruncated>false</IsTruncated></GetAccountAuthorizationDetailsResult></GetAccountAuthorizationDetailsResponse>';

/** Folds this command's successful response as it streams in (see `foldResponse`). */
export function foldAuthorizationDetails(command: GetAccountAuthorizationDetailsCommand): {
  page(): AuthorizationDetailsPage | undefined;
} {
  const folded = foldResponse(
    command,
    "rolecallFoldAuthorizationDetails",
    () => new AuthorizationDetailsFold(),
    foldedBody,
  );
  return { page: () => folded.result() };
}
