import { Readable } from "node:stream";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { foldInstancesResponse, InstancesPageFold } from "../../src/aws/instances-page-stream.js";
import { chunksOf } from "../support/chunked-answers.js";
import { retainedByFold } from "../support/heap-after-gc.js";

// A page shaped as EC2 answers, with the traps a name-only match would fall into: `item`s, `name`s, `groupId`s
// and a tag set inside a network interface, a second reservation with its own owner, and escaped text.
const page = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <reservationSet>
    <item>
      <reservationId>r-1</reservationId>
      <ownerId>111122223333</ownerId>
      <groupSet><item><groupId>sg-1</groupId><groupName>web</groupName></item></groupSet>
      <instancesSet>
        <item>
          <instanceId>i-aaa</instanceId>
          <instanceState><code>16</code><name>running</name></instanceState>
          <placement><availabilityZone>us-east-1a</availabilityZone><groupName/></placement>
          <networkInterfaceSet>
            <item>
              <networkInterfaceId>eni-1</networkInterfaceId>
              <tagSet><item><key>eni-tag</key><value>not the instance's</value></item></tagSet>
              <groupSet><item><groupId>sg-1</groupId><groupName>web</groupName></item></groupSet>
            </item>
          </networkInterfaceSet>
          <tagSet>
            <item><key>team</key><value>data &amp; ml</value></item>
            <item><key>empty</key><value/></item>
            <item><key>novalue</key></item>
          </tagSet>
        </item>
        <item>
          <instanceId>i-bbb</instanceId>
          <instanceState><code>80</code><name>stopped</name></instanceState>
        </item>
      </instancesSet>
    </item>
    <item>
      <ownerId>444455556666</ownerId>
      <instancesSet><item><instanceId>i-ccc</instanceId><instanceState><name>pending</name></instanceState></item></instancesSet>
    </item>
  </reservationSet>
  <nextToken>token-2</nextToken>
</DescribeInstancesResponse>`;

const expected = {
  accountId: "111122223333",
  nextToken: "token-2",
  instances: [
    { id: "i-aaa", state: "running", tags: { team: "data & ml", empty: "", novalue: "" } },
    { id: "i-bbb", state: "stopped", tags: {} },
    { id: "i-ccc", state: "pending", tags: {} },
  ],
};

function fold(chunks: readonly string[]) {
  const folding = new InstancesPageFold();
  for (const chunk of chunks) folding.write(chunk);
  return folding.close();
}

describe("InstancesPageFold", () => {
  it("keeps each instance's ID, state and own tags, the first owner and the next token", () => {
    expect(fold([page])).toEqual(expected);
  });

  it("reads the same whatever the chunk boundaries", () => {
    for (const size of [1, 7, 64, 333]) expect(fold(chunksOf(page, size))).toEqual(expected);
  });

  it("reads an empty last page as no instances and no next token", () => {
    const last =
      '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><reservationSet/><nextToken/></DescribeInstancesResponse>';
    expect(fold([last])).toEqual({ instances: [], accountId: undefined, nextToken: undefined });
  });

  it("keeps no chunk of the body alive through the strings it keeps", () => {
    // 1,000 instances with a long ID, a long tag value and 1 KiB of fields it does not keep, written in 64 KiB
    // chunks that are strings of their own, as a stream delivers them, not slices of the one document.
    const instances = Array.from(
      { length: 1000 },
      (_, index) =>
        `<item><instanceId>i-${String(index).padStart(17, "0")}</instanceId><instanceState><name>running</name></instanceState>` +
        `<clientToken>${"x".repeat(1024)}</clientToken><tagSet><item><key>aws:autoscaling:groupName</key>` +
        `<value>group-${String(index).padStart(20, "0")}</value></item></tagSet></item>`,
    ).join("");
    const body = `<DescribeInstancesResponse><reservationSet><item><ownerId>111122223333</ownerId><instancesSet>${instances}</instancesSet></item></reservationSet><nextToken>${"t".repeat(200)}</nextToken></DescribeInstancesResponse>`;
    const { result: entries, retained } = retainedByFold(body, () => new InstancesPageFold());
    expect(entries.instances).toHaveLength(1000);
    expect(entries.instances[999]?.tags).toEqual({
      "aws:autoscaling:groupName": `group-${"0".repeat(17)}999`,
    });
    // What is kept is about 230 KB; the chunks are about 1.3 MB.
    expect(retained).toBeLessThan(body.length / 4);
  });

  it("refuses a truncated body rather than returning part of a page", () => {
    expect(() => fold([page.slice(0, page.length / 2)])).toThrow();
  });

  it("refuses a document that is not a page, and an instance without an ID, rather than reading no instances", () => {
    expect(() => fold(["<Response><Errors/></Response>"])).toThrow(/<Response> document/);
    const unnamed =
      "<DescribeInstancesResponse><reservationSet><item><instancesSet><item><instanceState><name>running</name></instanceState></item></instancesSet></item></reservationSet></DescribeInstancesResponse>";
    expect(() => fold([unnamed])).toThrow(/1 instance\(s\) without an ID/);
  });
});

/** An EC2 client whose HTTP handler answers every request with one status and body, in chunks of 100 bytes. */
function clientAnswering(statusCode: number, body: string): EC2Client {
  return new EC2Client({
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    maxAttempts: 1,
    requestHandler: {
      handle: () => {
        const chunked = Readable.from(chunksOf(Buffer.from(body), 100));
        return Promise.resolve({ response: { statusCode, headers: {}, body: chunked } });
      },
    },
  });
}

describe("foldInstancesResponse", () => {
  it("folds a successful response as it streams and leaves the SDK an empty page", async () => {
    const command = new DescribeInstancesCommand({ MaxResults: 1000 });
    const folded = foldInstancesResponse(command);
    const output = await clientAnswering(200, page).send(command);
    expect(folded.entries()).toEqual(expected);
    expect(output.Reservations ?? []).toEqual([]);
  });

  it("decodes characters whose UTF-8 bytes a chunk boundary splits", async () => {
    // Three-byte characters from offset 0 of the value on: every 100-byte chunk boundary in the value splits one.
    const value = "日本語のタグ".repeat(40);
    const withWide = page.replace("data &amp; ml", value);
    expect(Buffer.byteLength(withWide)).toBeGreaterThan(withWide.length + 400);
    const command = new DescribeInstancesCommand({});
    const folded = foldInstancesResponse(command);
    await clientAnswering(200, withWide).send(command);
    expect(folded.entries()?.instances[0]?.tags).toEqual({ team: value, empty: "", novalue: "" });
  });

  it("leaves an error to the SDK, with its code", async () => {
    const command = new DescribeInstancesCommand({});
    const folded = foldInstancesResponse(command);
    const error =
      '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>';
    await expect(clientAnswering(503, error).send(command)).rejects.toMatchObject({
      name: "RequestLimitExceeded",
    });
    expect(folded.entries()).toBeUndefined();
  });
});
