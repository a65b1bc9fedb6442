// deploy/aws/instance-events.yaml, read as CloudFormation reads it: the queue rolecall polls is the one the controller
// policies name, EventBridge may send to it only from the stack's two rules, the rules' event patterns select the
// events rolecall handles (checked by matching sample events as EventBridge matches them), and failures end in a
// dead-letter queue.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse, type CollectionTag, type ScalarTag } from "yaml";
import { describe, expect, it } from "vitest";
import { parseInstanceEvent } from "../../src/events/instance-event.js";
import { repoRoot } from "../support/cli.js";
import { stateChangeBody, tagChangeBody } from "../support/event-queue.js";

const tags: ScalarTag[] = [
  { tag: "!Ref", resolve: (value) => ({ Ref: value }) },
  { tag: "!Sub", resolve: (value) => ({ "Fn::Sub": value }) },
  {
    tag: "!GetAtt",
    resolve: (value) => ({
      "Fn::GetAtt": [value.slice(0, value.indexOf(".")), value.slice(value.indexOf(".") + 1)],
    }),
  },
];

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}
const sequenceTags: CollectionTag[] = ["Not", "Equals"].map((name) => ({
  tag: `!${name}`,
  collection: "seq",
  resolve: (value) => ({ [`Fn::${name}`]: value.toJSON() as unknown }),
}));

interface Template {
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown }>;
  Conditions?: Record<string, unknown>;
}
const readTemplate = (file: string) =>
  parse(readFileSync(path.join(repoRoot, file), "utf8"), {
    customTags: [...tags, ...sequenceTags],
  }) as Template;
const template = readTemplate("deploy/aws/instance-events.yaml");

const resource = (name: string): Resource => {
  const found = template.Resources[name];
  if (found === undefined) throw new Error(`no resource ${name}`);
  return found;
};

/** EventBridge's matching for the pattern forms the rules use: a list of exact values, or a nested object. */
function matches(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.includes(event);
  if (typeof pattern !== "object" || pattern === null) return false;
  return Object.entries(pattern).every(([key, inner]) =>
    matches(inner, (event as Record<string, unknown> | undefined)?.[key]),
  );
}

const rules = ["InstanceStateChangeRule", "InstanceTagChangeRule"];
const matchedBy = (body: string) =>
  rules.filter((rule) => matches(resource(rule).Properties.EventPattern, JSON.parse(body)));
const id = "i-0123456789abcdef0";

describe("deploy/aws/instance-events.yaml", () => {
  it("creates the queue the controller policies allow, and nothing rolecall could widen", () => {
    const queue = resource("InstanceEventsQueue");
    expect(queue.Type).toBe("AWS::SQS::Queue");
    for (const file of [
      "policies/rolecall-controller-policy.json",
      "policies/rolecall-controller-policy.bounded.json",
    ]) {
      const policy = JSON.parse(readFileSync(path.join(repoRoot, file), "utf8")) as {
        Statement: { Action: string | string[]; Resource: string }[];
      };
      const grant = policy.Statement.find((statement) =>
        [statement.Action].flat().includes("sqs:ReceiveMessage"),
      );
      expect(grant?.Resource, file).toBe(`arn:aws:sqs:*:*:${String(queue.Properties.QueueName)}`);
    }
    expect(
      Object.values(template.Resources)
        .map((each) => each.Type)
        .sort(),
    ).toEqual([
      "AWS::Events::EventBusPolicy",
      "AWS::Events::Rule",
      "AWS::Events::Rule",
      "AWS::SQS::Queue",
      "AWS::SQS::Queue",
      "AWS::SQS::QueuePolicy",
    ]);
  });

  it("long-polls, and sends a message that keeps failing to the dead-letter queue", () => {
    const queue = resource("InstanceEventsQueue").Properties;
    expect(queue.ReceiveMessageWaitTimeSeconds).toBe(20);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(30);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { "Fn::GetAtt": ["InstanceEventsDeadLetterQueue", "Arn"] },
      maxReceiveCount: 5,
    });
    expect(resource("InstanceEventsDeadLetterQueue").Type).toBe("AWS::SQS::Queue");
  });

  it("lets EventBridge send to the queue only for the stack's two rules", () => {
    const policy = resource("InstanceEventsQueuePolicy").Properties;
    expect(policy.Queues).toEqual([{ Ref: "InstanceEventsQueue" }]);
    const [statement, ...others] = (policy.PolicyDocument as { Statement: Record<string, unknown>[] })
      .Statement;
    expect(others).toEqual([]);
    expect(statement).toMatchObject({
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sqs:SendMessage",
      Resource: { "Fn::GetAtt": ["InstanceEventsQueue", "Arn"] },
      Condition: { ArnEquals: { "aws:SourceArn": rules.map((rule) => ({ "Fn::GetAtt": [rule, "Arn"] })) } },
    });
  });

  it("routes both rules to the queue", () => {
    for (const rule of rules) {
      expect(resource(rule).Type).toBe("AWS::Events::Rule");
      expect(resource(rule).Properties.State).toBe("ENABLED");
      expect(resource(rule).Properties.Targets).toEqual([
        { Id: "rolecall-instance-events", Arn: { "Fn::GetAtt": ["InstanceEventsQueue", "Arn"] } },
      ]);
    }
  });

  it("selects the events rolecall handles, each by one rule, and not others", () => {
    for (const state of ["running", "stopped", "terminated"])
      expect(matchedBy(stateChangeBody(id, state)), state).toEqual(["InstanceStateChangeRule"]);
    expect(matchedBy(stateChangeBody(id, "stopping"))).toEqual([]);
    expect(matchedBy(tagChangeBody(id, { Team: "a" }))).toEqual(["InstanceTagChangeRule"]);
    const volumeTags = JSON.parse(tagChangeBody(id, {})) as { detail: Record<string, unknown> };
    volumeTags.detail["resource-type"] = "volume";
    expect(matchedBy(JSON.stringify(volumeTags))).toEqual([]);
    // And what they select, rolecall reads as an instance event.
    expect(parseInstanceEvent(stateChangeBody(id, "running"), "us-east-1").type).toBe("state-change");
    expect(parseInstanceEvent(tagChangeBody(id, {}), "us-east-1").type).toBe("tag-change");
  });

  it("outputs the queue URL rolecall takes", () => {
    expect(template.Outputs.QueueUrl?.Value).toEqual({ Ref: "InstanceEventsQueue" });
  });

  it("with OrganizationId only, lets the organisation's accounts put events on the default bus", () => {
    const policy = resource("OrganizationEventsPolicy") as Resource & { Condition?: string };
    expect(policy.Condition).toBe("FromOrganization");
    expect(template.Conditions?.FromOrganization).toEqual({
      "Fn::Not": [{ "Fn::Equals": [{ Ref: "OrganizationId" }, ""] }],
    });
    expect(policy.Properties.Statement).toMatchObject({
      Effect: "Allow",
      Action: "events:PutEvents",
      Condition: { StringEquals: { "aws:PrincipalOrgID": { Ref: "OrganizationId" } } },
    });
  });
});

describe("deploy/aws/instance-events-forwarder.yaml", () => {
  const forwarder = readTemplate("deploy/aws/instance-events-forwarder.yaml");
  const forwarded = (name: string) => {
    const found = forwarder.Resources[name];
    if (found === undefined) throw new Error(`no resource ${name}`);
    return found;
  };

  it("forwards exactly the events the central rules select, to the central bus, with its own role", () => {
    expect(forwarded("InstanceStateChangeForwardRule").Properties.EventPattern).toEqual(
      resource("InstanceStateChangeRule").Properties.EventPattern,
    );
    expect(forwarded("InstanceTagChangeForwardRule").Properties.EventPattern).toEqual(
      resource("InstanceTagChangeRule").Properties.EventPattern,
    );
    for (const rule of ["InstanceStateChangeForwardRule", "InstanceTagChangeForwardRule"])
      expect(forwarded(rule).Properties.Targets).toEqual([
        {
          Id: "rolecall-event-bus",
          Arn: { Ref: "CentralEventBusArn" },
          RoleArn: { "Fn::GetAtt": ["ForwardRole", "Arn"] },
        },
      ]);
  });

  it("gives EventBridge's role events:PutEvents on the central bus and nothing else", () => {
    const role = forwarded("ForwardRole").Properties as {
      Policies: { PolicyDocument: { Statement: unknown[] } }[];
    };
    expect(role.Policies.flatMap((policy) => policy.PolicyDocument.Statement)).toEqual([
      { Effect: "Allow", Action: "events:PutEvents", Resource: { Ref: "CentralEventBusArn" } },
    ]);
  });

  it("what it forwards, rolecall reads with the account and region it routes by", () => {
    const body = stateChangeBody(id, "running", "eu-west-1", "222222222222");
    expect(parseInstanceEvent(body)).toMatchObject({ account: "222222222222", region: "eu-west-1" });
  });
});
