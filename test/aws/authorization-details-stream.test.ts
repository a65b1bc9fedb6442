import { GetAccountAuthorizationDetailsCommand } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import {
  AuthorizationDetailsFold,
  type AuthorizationDetailsPage,
} from "../../src/aws/authorization-details-stream.js";
import type { AwsCaller } from "../../src/aws/aws-caller.js";
import { readAuthorizationDetails } from "../../src/aws/iam-read.js";
import { retainedByFold } from "../support/heap-after-gc.js";
import { answering, chunksOf, iamCallerAnswering, iamClient } from "../support/chunked-answers.js";

const trust = encodeURIComponent(
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
  }),
);
const grant = (bucket: string) =>
  encodeURIComponent(
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/*` }],
    }),
  );

// A page shaped as IAM answers, pretty-printed as moto prints it, with the traps a name-only match would fall
// into: a profile's own copy of its role (Path, RoleName, Arn, Tags), Tags on roles and on profiles, a profile
// with no Tags element, escaped text, empty elements and several policy versions.
const page = `<?xml version="1.0" encoding="UTF-8"?>
<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetAccountAuthorizationDetailsResult>
    <IsTruncated>true</IsTruncated>
    <UserDetailList/>
    <GroupDetailList/>
    <RoleDetailList>
      <member>
        <Path>/rolecall/</Path>
        <RoleName>rolecall-a</RoleName>
        <RoleId>AROAEXAMPLEA</RoleId>
        <Arn>arn:aws:iam::111122223333:role/rolecall/rolecall-a</Arn>
        <CreateDate>2026-11-30T10:00:00Z</CreateDate>
        <AssumeRolePolicyDocument>${trust}</AssumeRolePolicyDocument>
        <InstanceProfileList>
          <member>
            <Path>/rolecall/</Path>
            <InstanceProfileName>rolecall-a</InstanceProfileName>
            <InstanceProfileId>AIPAEXAMPLEA</InstanceProfileId>
            <Arn>arn:aws:iam::111122223333:instance-profile/rolecall/rolecall-a</Arn>
            <CreateDate>2026-11-30T10:00:00Z</CreateDate>
            <Roles>
              <member>
                <Path>/elsewhere/</Path>
                <RoleName>rolecall-a</RoleName>
                <Arn>arn:aws:iam::111122223333:role/elsewhere/not-this-one</Arn>
                <AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument>
                <Tags><member><Key>copy</Key><Value>not the role's</Value></member></Tags>
              </member>
            </Roles>
            <Tags>
              <member><Key>rolecall.dev/managed-by</Key><Value>rolecall</Value></member>
            </Tags>
          </member>
        </InstanceProfileList>
        <RolePolicyList>
          <member><PolicyName>hand-made</PolicyName><PolicyDocument>${grant("inline")}</PolicyDocument></member>
        </RolePolicyList>
        <AttachedManagedPolicies>
          <member><PolicyName>rolecall-a</PolicyName><PolicyArn>arn:aws:iam::111122223333:policy/rolecall/rolecall-a</PolicyArn></member>
          <member><PolicyName>extra</PolicyName><PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn></member>
        </AttachedManagedPolicies>
        <PermissionsBoundary>
          <PermissionsBoundaryType>Policy</PermissionsBoundaryType>
          <PermissionsBoundaryArn>arn:aws:iam::111122223333:policy/boundary</PermissionsBoundaryArn>
        </PermissionsBoundary>
        <Tags>
          <member><Key>team</Key><Value>data &amp; ml</Value></member>
          <member><Key>empty</Key><Value></Value></member>
        </Tags>
        <RoleLastUsed><LastUsedDate>2026-11-30T11:00:00Z</LastUsedDate><Region>us-east-1</Region></RoleLastUsed>
      </member>
      <member>
        <Path>/</Path>
        <RoleName>plain</RoleName>
        <Arn>arn:aws:iam::111122223333:role/plain</Arn>
        <AssumeRolePolicyDocument>${trust}</AssumeRolePolicyDocument>
        <InstanceProfileList>
          <member>
            <Path>/</Path>
            <InstanceProfileName>untagged</InstanceProfileName>
            <InstanceProfileId>AIPAEXAMPLEB</InstanceProfileId>
            <Arn>arn:aws:iam::111122223333:instance-profile/untagged</Arn>
            <Roles><member><RoleName>plain</RoleName></member></Roles>
          </member>
        </InstanceProfileList>
        <RolePolicyList/>
        <AttachedManagedPolicies/>
        <Tags/>
      </member>
    </RoleDetailList>
    <Policies>
      <member>
        <PolicyName>rolecall-a</PolicyName>
        <DefaultVersionId>v2</DefaultVersionId>
        <PolicyId>ANPAEXAMPLEA</PolicyId>
        <Path>/rolecall/</Path>
        <PolicyVersionList>
          <member><Document>${grant("old")}</Document><IsDefaultVersion>false</IsDefaultVersion><VersionId>v1</VersionId><CreateDate>2026-11-30T10:00:00Z</CreateDate></member>
          <member><Document>${grant("new")}</Document><IsDefaultVersion>true</IsDefaultVersion><VersionId>v2</VersionId><CreateDate>2026-11-30T12:30:00.500Z</CreateDate></member>
        </PolicyVersionList>
        <Arn>arn:aws:iam::111122223333:policy/rolecall/rolecall-a</Arn>
        <AttachmentCount>1</AttachmentCount>
        <IsAttachable>true</IsAttachable>
        <Description>S3 access for a &lt;rolecall&gt; manifest</Description>
      </member>
      <member>
        <PolicyName>no-description</PolicyName>
        <DefaultVersionId>v1</DefaultVersionId>
        <Path>/</Path>
        <PolicyVersionList>
          <member><Document>${grant("b")}</Document><IsDefaultVersion>true</IsDefaultVersion><VersionId>v1</VersionId><CreateDate>2026-11-30T10:00:00Z</CreateDate></member>
        </PolicyVersionList>
        <Arn>arn:aws:iam::111122223333:policy/no-description</Arn>
        <Description/>
      </member>
    </Policies>
    <Marker>marker-2</Marker>
  </GetAccountAuthorizationDetailsResult>
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</GetAccountAuthorizationDetailsResponse>`;

const lastPage = `<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetAccountAuthorizationDetailsResult><IsTruncated>false</IsTruncated><RoleDetailList/><Policies/></GetAccountAuthorizationDetailsResult>
</GetAccountAuthorizationDetailsResponse>`;

/** The details through rolecall's caller, where each page is folded as it streams. */
function readFolded(bodies: readonly string[], size?: number) {
  return readAuthorizationDetails(iamCallerAnswering(200, bodies, size));
}

/** The same details from the SDK's own parse of the same bodies, handed to the reader as a test double would. */
async function readThroughSdk(bodies: readonly string[]) {
  const client = iamClient(answering(200, bodies));
  const sdkCaller = {
    send: () => client.send(new GetAccountAuthorizationDetailsCommand({})),
  } as unknown as AwsCaller;
  return readAuthorizationDetails(sdkCaller);
}

function fold(chunks: readonly string[]): AuthorizationDetailsPage {
  const folding = new AuthorizationDetailsFold();
  for (const chunk of chunks) folding.write(chunk);
  return folding.close();
}

describe("AuthorizationDetailsFold", () => {
  it("reads the same details as the SDK's own parse of the same pages", async () => {
    const folded = await readFolded([page, lastPage]);
    expect(folded).toEqual(await readThroughSdk([page, lastPage]));
    expect(folded.roles.map((role) => [role.name, role.path, role.arn])).toEqual([
      ["rolecall-a", "/rolecall/", "arn:aws:iam::111122223333:role/rolecall/rolecall-a"],
      ["plain", "/", "arn:aws:iam::111122223333:role/plain"],
    ]);
    expect(folded.roles[0]?.tags).toEqual({ team: "data & ml", empty: "" });
    expect(folded.roles[0]?.attachedPolicyArns).toHaveLength(2);
    expect(folded.roles[0]?.permissionsBoundary).toBe("arn:aws:iam::111122223333:policy/boundary");
    expect(folded.profiles.map((profile) => [profile.name, profile.roleNames, profile.tags])).toEqual([
      ["rolecall-a", ["rolecall-a"], { "rolecall.dev/managed-by": "rolecall" }],
      ["untagged", ["plain"], undefined],
    ]);
    expect(folded.policies[0]).toMatchObject({
      defaultVersionId: "v2",
      description: "S3 access for a <rolecall> manifest",
      versions: [
        { id: "v1", isDefault: false, createdAt: Date.parse("2026-11-30T10:00:00Z") },
        { id: "v2", isDefault: true, createdAt: Date.parse("2026-11-30T12:30:00.500Z") },
      ],
    });
    expect(JSON.stringify(folded.policies[0]?.document)).toContain("arn:aws:s3:::new/*");
    expect(folded.policies[1]?.description).toBe("");
  });

  it("follows the marker while the page says it is truncated", async () => {
    const second = page
      .replaceAll("rolecall-a", "rolecall-b")
      .replace("<IsTruncated>true", "<IsTruncated>false");
    const folded = await readFolded([page, second]);
    expect(folded.roles.map((role) => role.name)).toEqual(["rolecall-a", "plain", "rolecall-b", "plain"]);
  });

  it("reads the same whatever the chunk boundaries", () => {
    const whole = fold([page]);
    for (const size of [1, 7, 64, 333]) expect(fold(chunksOf(page, size))).toEqual(whole);
    expect(whole).toMatchObject({ IsTruncated: true, Marker: "marker-2" });
  });

  it("refuses a truncated body, another document or a malformed field rather than reading fewer resources", () => {
    expect(() => fold([page.slice(0, page.length / 2)])).toThrow();
    expect(() => fold(["<ErrorResponse><Error/></ErrorResponse>"])).toThrow(/<ErrorResponse> document/);
    expect(() => fold([page.replace("<IsDefaultVersion>false", "<IsDefaultVersion>maybe")])).toThrow(
      /"maybe" for a boolean/,
    );
    expect(() => fold([page.replace("2026-11-30T12:30:00.500Z", "yesterday")])).toThrow(/for a date/);
  });

  it("leaves an error answer to the SDK, with its code", async () => {
    const error =
      '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>r</RequestId></ErrorResponse>';
    await expect(readAuthorizationDetails(iamCallerAnswering(403, [error]))).rejects.toMatchObject({
      code: "AccessDenied",
    });
  });

  it("keeps no chunk of the body alive through the strings it keeps", () => {
    // 300 roles with long names and 2 KiB each of fields it does not keep, written in 64 KiB chunks that are
    // strings of their own, as a stream delivers them.
    const members = Array.from({ length: 300 }, (_, index) => {
      const name = `rolecall-${String(index).padStart(24, "0")}`;
      return (
        `<member><Path>/rolecall/</Path><RoleName>${name}</RoleName><Arn>arn:aws:iam::111122223333:role/rolecall/${name}</Arn>` +
        `<Tags><member><Key>rolecall.dev/manifest</Key><Value>${name}</Value></member></Tags>` +
        `<RoleLastUsed><Region>${"x".repeat(2048)}</Region></RoleLastUsed></member>`
      );
    }).join("");
    const body = `<GetAccountAuthorizationDetailsResponse><GetAccountAuthorizationDetailsResult><IsTruncated>false</IsTruncated><RoleDetailList>${members}</RoleDetailList></GetAccountAuthorizationDetailsResult></GetAccountAuthorizationDetailsResponse>`;
    const { result: kept, retained } = retainedByFold(body, () => new AuthorizationDetailsFold());
    expect(kept.RoleDetailList).toHaveLength(300);
    expect(retained).toBeLessThan(body.length / 3);
  });
});
