import type {
  InstanceProfile,
  ListInstanceProfilesCommand,
  ListInstanceProfilesCommandOutput,
  Tag,
} from "@aws-sdk/client-iam";
import { ownCopy } from "../util/own-copy.js";
import { foldResponse, xmlBoolean, XmlPathFold, type Mutable } from "./xml-path-fold.js";

/** The part of a ListInstanceProfiles page a pass reads, in the SDK's own shapes. */
export type InstanceProfilesPage = Pick<
  ListInstanceProfilesCommandOutput,
  "InstanceProfiles" | "IsTruncated" | "Marker"
>;

// Element paths in IAM's answer: each profile holds its roles whole, with their own `Path`, `Arn` and `Tags`.
const result = "ListInstanceProfilesResponse/ListInstanceProfilesResult";
const profile = `${result}/InstanceProfiles/member`;
const tag = `${profile}/Tags/member`;

/**
 * The fields of a profile the snapshot reads, by their path inside the profile's element: the same in
 * GetAccountAuthorizationDetails, whose fold reads them too.
 */
export const profileFields: Record<string, (target: Mutable<InstanceProfile>, text: string) => void> = {
  Path: (target, text) => (target.Path = ownCopy(text)),
  InstanceProfileName: (target, text) => (target.InstanceProfileName = ownCopy(text)),
  InstanceProfileId: (target, text) => (target.InstanceProfileId = ownCopy(text)),
  Arn: (target, text) => (target.Arn = ownCopy(text)),
  "Roles/member/RoleName": (target, text) =>
    (target.Roles ??= []).push({ RoleName: ownCopy(text) } as NonNullable<InstanceProfile["Roles"]>[number]),
};

const declaredPaths = [
  `${result}/IsTruncated`,
  `${result}/Marker`,
  profile,
  `${profile}/Tags`,
  tag,
  `${tag}/Key`,
  `${tag}/Value`,
  ...Object.keys(profileFields).map((field) => `${profile}/${field}`),
];

/**
 * A ListInstanceProfiles page folded as it streams in: at 1,000 profiles a page is about 1.3 MB of XML, most of it
 * each profile's copy of its role, which the SDK would turn into a string and a tree of every field first.
 */
export class InstanceProfilesFold extends XmlPathFold<InstanceProfilesPage> {
  private readonly page: Mutable<InstanceProfilesPage> = { InstanceProfiles: [], IsTruncated: false };
  private profile: Mutable<InstanceProfile> | undefined;
  private tag: Mutable<Tag> | undefined;

  constructor() {
    super("ListInstanceProfiles", "ListInstanceProfilesResponse", declaredPaths);
  }

  protected opened(path: string): void {
    if (path === profile) this.profile = {} as Mutable<InstanceProfile>;
    // A Tags element, even empty, says the profile's tags were listed (the snapshot tells that from absent).
    else if (path === `${profile}/Tags` && this.profile !== undefined) this.profile.Tags = [];
    else if (path === tag) this.tag = {} as Mutable<Tag>;
  }

  protected closed(path: string, text: string): void {
    if (path === `${result}/IsTruncated`) this.page.IsTruncated = xmlBoolean("ListInstanceProfiles", text);
    else if (path === `${result}/Marker`) this.page.Marker = ownCopy(text);
    else if (path === profile) this.closedProfile();
    else if (path === tag) this.closedTag();
    else if (path === `${tag}/Key` && this.tag !== undefined) this.tag.Key = ownCopy(text);
    else if (path === `${tag}/Value` && this.tag !== undefined) this.tag.Value = ownCopy(text);
    else if (this.profile !== undefined && path.startsWith(`${profile}/`))
      profileFields[path.slice(profile.length + 1)]?.(this.profile, text);
  }

  private closedProfile(): void {
    if (this.profile !== undefined) this.page.InstanceProfiles?.push(this.profile);
    this.profile = undefined;
  }

  private closedTag(): void {
    if (this.tag !== undefined) (this.profile?.Tags ?? []).push(this.tag);
    this.tag = undefined;
  }

  protected result(): InstanceProfilesPage {
    return this.page;
  }
}

const foldedBody =
  '<ListInstanceProfilesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListInstanceProfilesResult><IsTruncated>false</IsTruncated><InstanceProfiles/></ListInstanceProfilesResult></ListInstanceProfilesResponse>';

/** Folds this command's successful response as it streams in (see `foldResponse`). */
export function foldInstanceProfiles(command: ListInstanceProfilesCommand): {
  page(): InstanceProfilesPage | undefined;
} {
  const folded = foldResponse(
    command,
    "rolecallFoldInstanceProfiles",
    () => new InstanceProfilesFold(),
    foldedBody,
  );
  return { page: () => folded.result() };
}
