import { describe, expect, it } from "vitest";
import { parseInstanceEvent } from "../../src/events/instance-event.js";
import { stateChangeBody, tagChangeBody } from "../support/event-queue.js";

const id = "i-0123456789abcdef0";

describe("parseInstanceEvent", () => {
  it("reads a state change: the instance ID, the state and when it happened", () => {
    const event = parseInstanceEvent(stateChangeBody(id, "running"), "us-east-1");
    expect(event).toMatchObject({ type: "state-change", instanceId: id, state: "running" });
    expect("at" in event && typeof event.at === "number").toBe(true);
  });

  it("reads a tag change on an EC2 instance from its resource ARN", () => {
    expect(parseInstanceEvent(tagChangeBody(id, { Team: "a" }), "us-east-1")).toMatchObject({
      type: "tag-change",
      instanceId: id,
    });
  });

  it("sets events of another region apart", () => {
    const event = parseInstanceEvent(stateChangeBody(id, "running", "eu-west-1"), "us-east-1");
    expect(event.type).toBe("other-region");
    expect("why" in event && event.why).toContain("eu-west-1");
  });

  it.each([
    ["not JSON", "not json {", "unparseable"],
    ["a JSON array", "[1,2]", "unparseable"],
    ["an empty body", "", "unparseable"],
    [
      "another detail type",
      JSON.stringify({ "detail-type": "AWS API Call via CloudTrail", region: "us-east-1" }),
      "unknown",
    ],
    [
      "a tag change on another resource type",
      tagChangeBody(id, {}).replace('"resource-type":"instance"', '"resource-type":"volume"'),
      "unknown",
    ],
    ["a state change without a valid instance ID", stateChangeBody("not-an-id", "running"), "unparseable"],
    [
      "a tag change whose resource is not an instance ARN",
      tagChangeBody(id, {}).replace(`instance/${id}`, "volume/vol-1"),
      "unparseable",
    ],
    [
      "an event without detail",
      JSON.stringify({ "detail-type": "EC2 Instance State-change Notification", region: "us-east-1" }),
      "unparseable",
    ],
  ])("%s is %s", (_what, body, type) => {
    expect(parseInstanceEvent(body, "us-east-1").type).toBe(type);
  });

  it("never copies more than a short field of the body into its explanation", () => {
    const long = "x".repeat(5000);
    const event = parseInstanceEvent(
      JSON.stringify({ "detail-type": long, region: "us-east-1" }),
      "us-east-1",
    );
    expect("why" in event && event.why.length).toBeLessThan(200);
  });
});
