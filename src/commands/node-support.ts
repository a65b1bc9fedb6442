/**
 * The AWS SDK prints a nine-line NodeVersionSupportWarning on Node.js below 22, from the first client it builds,
 * in every plan, apply and run. rolecall supports Node.js 20 while the SDK releases it uses still do (the SDK
 * says those published after the first week of January 2027 require 22), so the block tells a user nothing they
 * can act on today: rolecall turns it off (the SDK's own switch, read when a client is built) and says it once,
 * in one line of its own, where it matters. Setting the switch yourself (to any value) is respected, and
 * `true` also silences rolecall's line. Imported first by cli.ts, before anything can load the SDK.
 */
const sdkSwitch = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

/** The minimum Node.js major the AWS SDK will require, and so rolecall with it. */
export const nextNodeMajor = 22;

const userChoice = process.env[sdkSwitch];
process.env[sdkSwitch] ??= "true";

/** rolecall's one line, or undefined when Node.js is recent enough or the user has silenced the warning. */
export function nodeSupportNotice(
  version: string = process.version,
  choice: string | undefined = userChoice,
) {
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  if (!Number.isFinite(major) || major >= nextNodeMajor || choice === "true") return undefined;
  return `rolecall: note: Node.js ${version} is past end of life; AWS SDK releases from January 2027 on need Node.js ${nextNodeMajor} (${sdkSwitch}=true hides this line)`;
}
