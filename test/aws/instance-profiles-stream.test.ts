import { ListInstanceProfilesCommand } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import type { AwsCaller } from "../../src/aws/aws-caller.js";
import { listInstanceProfiles } from "../../src/aws/iam-read.js";
import { InstanceProfilesFold, type InstanceProfilesPage } from "../../src/aws/instance-profiles-stream.js";
import { retainedByFold } from "../support/heap-after-gc.js";
import { answering, chunksOf, iamCallerAnswering, iamClient } from "../support/chunked-answers.js";

// A page shaped as IAM answers, pretty-printed as moto prints it, with the traps a name-only match would fall
// into: each profile's own copy of its role (Path, Arn, Tags of the role), a profile with Tags, one with an empty
// Tags element, one with none and no role, and escaped text.
const page = `<?xml version="1.0" encoding="UTF-8"?>
<ListInstanceProfilesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListInstanceProfilesResult>
    <IsTruncated>true</IsTruncated>
    <InstanceProfiles>
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
            <RoleId>AROAEXAMPLEA</RoleId>
            <Arn>arn:aws:iam::111122223333:role/elsewhere/rolecall-a</Arn>
            <CreateDate>2026-11-30T10:00:00Z</CreateDate>
            <AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument>
            <Tags><member><Key>copy</Key><Value>the role's, not the profile's</Value></member></Tags>
          </member>
        </Roles>
        <Tags>
          <member><Key>rolecall.dev/managed-by</Key><Value>rolecall</Value></member>
          <member><Key>team</Key><Value>data &amp; ml</Value></member>
        </Tags>
      </member>
      <member>
        <Path>/rolecall/</Path>
        <InstanceProfileName>empty-tags</InstanceProfileName>
        <InstanceProfileId>AIPAEXAMPLEB</InstanceProfileId>
        <Arn>arn:aws:iam::111122223333:instance-profile/rolecall/empty-tags</Arn>
        <Roles><member><RoleName>one</RoleName><Path>/</Path></member><member><RoleName>two</RoleName></member></Roles>
        <Tags/>
      </member>
      <member>
        <Path>/rolecall/</Path>
        <InstanceProfileName>bare</InstanceProfileName>
        <Arn>arn:aws:iam::111122223333:instance-profile/rolecall/bare</Arn>
        <Roles/>
      </member>
    </InstanceProfiles>
    <Marker>marker-2</Marker>
  </ListInstanceProfilesResult>
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</ListInstanceProfilesResponse>`;

const lastPage = `<ListInstanceProfilesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListInstanceProfilesResult><IsTruncated>false</IsTruncated><InstanceProfiles/></ListInstanceProfilesResult>
</ListInstanceProfilesResponse>`;

/** The same profiles from the SDK's own parse of the same bodies, handed to the reader as a test double would. */
async function listThroughSdk(bodies: readonly string[]) {
  const client = iamClient(answering(200, bodies));
  const sdkCaller = { send: () => client.send(new ListInstanceProfilesCommand({})) } as unknown as AwsCaller;
  return listInstanceProfiles(sdkCaller, "/rolecall/");
}

function fold(chunks: readonly string[]): InstanceProfilesPage {
  const folding = new InstanceProfilesFold();
  for (const chunk of chunks) folding.write(chunk);
  return folding.close();
}

describe("InstanceProfilesFold", () => {
  it("reads the same profiles as the SDK's own parse of the same pages, following the marker", async () => {
    const folded = await listInstanceProfiles(iamCallerAnswering(200, [page, lastPage]), "/rolecall/");
    expect(folded).toEqual(await listThroughSdk([page, lastPage]));
    expect(
      folded.map((profile) => [profile.name, profile.id, profile.path, profile.roleNames, profile.tags]),
    ).toEqual([
      [
        "rolecall-a",
        "AIPAEXAMPLEA",
        "/rolecall/",
        ["rolecall-a"],
        { "rolecall.dev/managed-by": "rolecall", team: "data & ml" },
      ],
      ["empty-tags", "AIPAEXAMPLEB", "/rolecall/", ["one", "two"], {}],
      ["bare", undefined, "/rolecall/", [], undefined],
    ]);
  });

  it("reads the same whatever the chunk boundaries", () => {
    const whole = fold([page]);
    for (const size of [1, 7, 64, 333]) expect(fold(chunksOf(page, size))).toEqual(whole);
    expect(whole).toMatchObject({ IsTruncated: true, Marker: "marker-2" });
  });

  it("refuses a truncated body, another document or a malformed flag rather than reading fewer profiles", () => {
    expect(() => fold([page.slice(0, page.length / 2)])).toThrow();
    expect(() => fold(["<ErrorResponse><Error/></ErrorResponse>"])).toThrow(/<ErrorResponse> document/);
    expect(() => fold([page.replace("<IsTruncated>true", "<IsTruncated>yes")])).toThrow(
      /"yes" for a boolean/,
    );
  });

  it("leaves an error answer to the SDK, with its code", async () => {
    const error =
      '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>r</RequestId></ErrorResponse>';
    await expect(listInstanceProfiles(iamCallerAnswering(403, [error]), "/")).rejects.toMatchObject({
      code: "AccessDenied",
    });
  });

  it("keeps no chunk of the body alive through the strings it keeps", () => {
    // 300 profiles with long names and 2 KiB each of their role's fields, which it does not keep, written in
    // 64 KiB chunks that are strings of their own, as a stream delivers them.
    const members = Array.from({ length: 300 }, (_, index) => {
      const name = `rolecall-${String(index).padStart(24, "0")}`;
      return (
        `<member><Path>/rolecall/</Path><InstanceProfileName>${name}</InstanceProfileName>` +
        `<Arn>arn:aws:iam::111122223333:instance-profile/rolecall/${name}</Arn>` +
        `<Roles><member><RoleName>${name}</RoleName><AssumeRolePolicyDocument>${"x".repeat(2048)}</AssumeRolePolicyDocument></member></Roles></member>`
      );
    }).join("");
    const body = `<ListInstanceProfilesResponse><ListInstanceProfilesResult><IsTruncated>false</IsTruncated><InstanceProfiles>${members}</InstanceProfiles></ListInstanceProfilesResult></ListInstanceProfilesResponse>`;
    const { result: kept, retained } = retainedByFold(body, () => new InstanceProfilesFold());
    expect(kept.InstanceProfiles).toHaveLength(300);
    expect(retained).toBeLessThan(body.length / 3);
  });
});
