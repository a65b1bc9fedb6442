import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  GetInstanceProfileCommand,
  ListInstanceProfileTagsCommand,
  ListInstanceProfilesCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagInstanceProfileCommand,
  UntagInstanceProfileCommand,
  type CreateInstanceProfileCommandOutput,
  type GetInstanceProfileCommandOutput,
  type ListInstanceProfileTagsCommandOutput,
  type ListInstanceProfilesCommandOutput,
  type ListInstanceProfilesRequest,
} from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { SimCloud } from "../../../src/aws/sim/sim-cloud.js";
import { ec2Trust, expectAwsError, iamErr, json } from "./sim-fixtures.js";

let sim: SimCloud;
beforeEach(() => {
  sim = new SimCloud();
});

const createProfile = (name: string, path?: string) =>
  sim.iam.send(
    new CreateInstanceProfileCommand({
      InstanceProfileName: name,
      ...(path === undefined ? {} : { Path: path }),
    }),
  ) as Promise<CreateInstanceProfileCommandOutput>;
const createRole = (name: string) =>
  sim.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: json(ec2Trust) }));
const getProfile = async (name: string) =>
  (
    (await sim.iam.send(
      new GetInstanceProfileCommand({ InstanceProfileName: name }),
    )) as GetInstanceProfileCommandOutput
  ).InstanceProfile!;
const list = (input: ListInstanceProfilesRequest) =>
  sim.iam.send(new ListInstanceProfilesCommand(input)) as Promise<ListInstanceProfilesCommandOutput>;

describe("CreateInstanceProfile and GetInstanceProfile", () => {
  it("creates a profile with an AIPA ID, its path in the ARN, no roles, and its tags", async () => {
    const { InstanceProfile } = (await sim.iam.send(
      new CreateInstanceProfileCommand({
        InstanceProfileName: "DEV_PROFILE",
        Path: "/rolecall/",
        Tags: [{ Key: "k", Value: "v" }],
      }),
    )) as CreateInstanceProfileCommandOutput;
    expect(InstanceProfile).toMatchObject({
      InstanceProfileName: "DEV_PROFILE",
      Path: "/rolecall/",
      Arn: "arn:aws:iam::123456789012:instance-profile/rolecall/DEV_PROFILE",
      Roles: [],
      Tags: [{ Key: "k", Value: "v" }],
    });
    expect(InstanceProfile?.InstanceProfileId).toMatch(/^AIPA[A-Z0-9]{17}$/);
    expect(InstanceProfile?.CreateDate).toBeInstanceOf(Date);
    expect(await getProfile("dev_profile")).toMatchObject({
      InstanceProfileName: "DEV_PROFILE",
      Tags: [{ Key: "k", Value: "v" }],
    });
  });

  it("refuses a duplicate name case-insensitively and reports an unknown profile as NoSuchEntity", async () => {
    await createProfile("DEV_PROFILE");
    await expectAwsError(createProfile("Dev_Profile"), iamErr("EntityAlreadyExists", 409, /already exists/));
    await expectAwsError(
      sim.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "nope" })),
      iamErr("NoSuchEntity", 404, "Instance Profile nope cannot be found."),
    );
    await expectAwsError(createProfile("bad/name"), iamErr("ValidationError", 400));
  });
});

describe("roles in instance profiles", () => {
  it("adds a role, shows it (trust policy URL-encoded) in Get and List, and removes it", async () => {
    await createProfile("IP");
    await createRole("R");
    await sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "ip", RoleName: "r" }));
    const profile = await getProfile("IP");
    expect(profile.Roles?.map((role) => role.RoleName)).toEqual(["R"]);
    expect(profile.Roles?.[0]?.AssumeRolePolicyDocument).toBe(encodeURIComponent(json(ec2Trust)));
    expect((await list({})).InstanceProfiles?.[0]?.Roles?.map((role) => role.RoleName)).toEqual(["R"]);
    await sim.iam.send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" }),
    );
    expect((await getProfile("IP")).Roles).toEqual([]);
  });

  it("holds one role at most: a second, or the same again, is LimitExceeded", async () => {
    await createProfile("IP");
    await createRole("R1");
    await createRole("R2");
    await sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R1" }));
    for (const role of ["R2", "R1"]) {
      await expectAwsError(
        sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: role })),
        iamErr("LimitExceeded", 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"),
      );
    }
  });

  it("reports a missing role or profile as NoSuchEntity, and removing a role it does not hold too", async () => {
    await createProfile("IP");
    await createRole("R");
    await expectAwsError(
      sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "nobody" })),
      iamErr("NoSuchEntity", 404, /role with name nobody/),
    );
    await expectAwsError(
      sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "nothing", RoleName: "R" })),
      iamErr("NoSuchEntity", 404, /Instance Profile nothing/),
    );
    await expectAwsError(
      sim.iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" })),
      iamErr("NoSuchEntity", 404),
    );
  });
});

describe("DeleteInstanceProfile", () => {
  it("refuses while it holds a role, deletes it after", async () => {
    await createProfile("IP");
    await createRole("R");
    await sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" }));
    await expectAwsError(
      sim.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "IP" })),
      iamErr("DeleteConflict", 409, /remove roles from instance profile/),
    );
    await sim.iam.send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" }),
    );
    await sim.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "ip" }));
    await expectAwsError(
      sim.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "IP" })),
      iamErr("NoSuchEntity", 404),
    );
    await expectAwsError(
      sim.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "IP" })),
      iamErr("NoSuchEntity", 404),
    );
  });
});

describe("instance profile tags", () => {
  it("tags, lists, overwrites and untags", async () => {
    await createProfile("IP");
    await sim.iam.send(
      new TagInstanceProfileCommand({
        InstanceProfileName: "IP",
        Tags: [
          { Key: "a", Value: "1" },
          { Key: "b", Value: "2" },
        ],
      }),
    );
    await sim.iam.send(
      new TagInstanceProfileCommand({ InstanceProfileName: "IP", Tags: [{ Key: "a", Value: "3" }] }),
    );
    await sim.iam.send(new UntagInstanceProfileCommand({ InstanceProfileName: "IP", TagKeys: ["b"] }));
    const listed = (await sim.iam.send(
      new ListInstanceProfileTagsCommand({ InstanceProfileName: "IP" }),
    )) as ListInstanceProfileTagsCommandOutput;
    expect(listed.Tags).toEqual([{ Key: "a", Value: "3" }]);
    expect((await getProfile("IP")).Tags).toEqual([{ Key: "a", Value: "3" }]);
    await expectAwsError(
      sim.iam.send(
        new TagInstanceProfileCommand({ InstanceProfileName: "none", Tags: [{ Key: "a", Value: "1" }] }),
      ),
      iamErr("NoSuchEntity", 404),
    );
  });
});

describe("ListInstanceProfiles", () => {
  it("lists by name under a path prefix, including role-less profiles, without tags", async () => {
    await sim.iam.send(
      new CreateInstanceProfileCommand({
        InstanceProfileName: "b",
        Path: "/rolecall/",
        Tags: [{ Key: "k", Value: "v" }],
      }),
    );
    await createProfile("A", "/rolecall/");
    await createProfile("c");
    const { InstanceProfiles, IsTruncated } = await list({ PathPrefix: "/rolecall/" });
    expect(InstanceProfiles?.map((profile) => profile.InstanceProfileName)).toEqual(["A", "b"]);
    expect(InstanceProfiles?.every((profile) => profile.Tags === undefined)).toBe(true);
    expect(IsTruncated).toBe(false);
    expect((await list({})).InstanceProfiles).toHaveLength(3);
  });

  it("pages with MaxItems and Marker over more than one page", async () => {
    for (let index = 0; index < 7; index += 1) await createProfile(`profile-${index}`, "/rolecall/");
    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await list({
        PathPrefix: "/rolecall/",
        MaxItems: 3,
        ...(marker === undefined ? {} : { Marker: marker }),
      });
      pages += 1;
      names.push(...page.InstanceProfiles!.map((profile) => profile.InstanceProfileName!));
      expect(page.InstanceProfiles!.length).toBeLessThanOrEqual(3);
      marker = page.IsTruncated === true ? page.Marker : undefined;
    } while (marker !== undefined);
    expect(pages).toBe(3);
    expect(names).toEqual(Array.from({ length: 7 }, (_, index) => `profile-${index}`));
  });

  it("refuses a path prefix that does not begin with a slash", async () => {
    await expectAwsError(list({ PathPrefix: "rolecall/" }), iamErr("ValidationError", 400));
  });
});
