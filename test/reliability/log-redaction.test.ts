// Logs never carry credentials or tokens: the root logger's redaction, field by field, and then the daemon as a
// child process with fake credentials in its environment, at debug level, end to end.
import { spawn } from "node:child_process";
import { cp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger.js";
import { cliPath, repoRoot } from "../support/cli.js";
import { waitFor } from "../support/daemon.js";
import { manifestYaml } from "../support/drift-kit.js";
import { freePort, launchInstances, motoClients, startMoto, testRegion, type Moto } from "../support/moto.js";
import { tempDirs } from "../support/temp-dir.js";

/** Recognisable fake secrets: any of them, or a long piece of one, in a log line is a leak. */
const secrets = {
  AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKE1234",
  AWS_SECRET_ACCESS_KEY: "fAkEsEcReT/kEy+ThAtMuStNeVeRbElOgGeD0000",
  AWS_SESSION_TOKEN: "FaKeSeSsIoNtOkEn//////////wEaCXVzLWVhc3QtMSJHMEUCIQD-never-logged",
  ROLECALL_STATUS_TOKEN: "status-bearer-token-never-logged-7f3a9c",
} as const;

/** The secrets, and distinctive pieces of them (a secret cut by a line break, a prefix, a logged substring). */
const needles = Object.values(secrets).flatMap((secret) => [secret, secret.slice(0, 12), secret.slice(-12)]);

function expectNoSecrets(text: string, label: string): void {
  for (const needle of needles) {
    const at = text.indexOf(needle);
    expect(at === -1 ? "" : text.slice(Math.max(0, at - 200), at + 100), `${label} leaks ${needle}`).toBe("");
  }
}

/** A logger writing into a list of parsed lines. */
function capture(): {
  lines: () => Record<string, unknown>[];
  logger: ReturnType<typeof createLogger>;
  text: () => string;
} {
  const raw: string[] = [];
  const logger = createLogger(
    "debug",
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        raw.push(chunk.toString());
        callback();
      },
    }),
  );
  return {
    logger,
    lines: () =>
      raw
        .join("")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => raw.join(""),
  };
}

describe("the root logger redacts", () => {
  const credentials = {
    accessKeyId: secrets.AWS_ACCESS_KEY_ID,
    secretAccessKey: secrets.AWS_SECRET_ACCESS_KEY,
    sessionToken: secrets.AWS_SESSION_TOKEN,
  };
  const sdkHeaders = {
    authorization: `AWS4-HMAC-SHA256 Credential=${secrets.AWS_ACCESS_KEY_ID}/20300101/us-east-1/iam/aws4_request, Signature=abc`,
    "x-amz-security-token": secrets.AWS_SESSION_TOKEN,
    "content-type": "application/x-www-form-urlencoded",
  };
  const cases: [string, Record<string, unknown>][] = [
    ["credential fields at the top", { ...credentials }],
    ["a credentials object", { credentials }],
    ["credentials one level down", { aws: { credentials } }],
    ["credentials in an SDK client's config", { client: { config: { region: "us-east-1", credentials } } }],
    ["an Authorization header", { authorization: `Bearer ${secrets.ROLECALL_STATUS_TOKEN}` }],
    [
      "request headers",
      {
        req: {
          headers: {
            authorization: `Bearer ${secrets.ROLECALL_STATUS_TOKEN}`,
            cookie: `t=${secrets.ROLECALL_STATUS_TOKEN}`,
          },
        },
      },
    ],
    ["bare headers", { headers: { authorization: `Bearer ${secrets.ROLECALL_STATUS_TOKEN}` } }],
    ["a signed SDK request", { request: { method: "POST", headers: sdkHeaders } }],
    ["a token field", { token: secrets.ROLECALL_STATUS_TOKEN }],
    ["a token one level down", { http: { token: secrets.ROLECALL_STATUS_TOKEN } }],
    ["the status token option", { options: { port: 8080, statusToken: secrets.ROLECALL_STATUS_TOKEN } }],
    ["the status token at the top", { statusToken: secrets.ROLECALL_STATUS_TOKEN }],
    ["the environment", { env: { PATH: "/usr/bin", ...secrets } }],
    ["environment variables at the top", { ...secrets }],
    ["an error carrying credentials", { err: Object.assign(new Error("signing failed"), { credentials }) }],
  ];

  for (const [label, fields] of cases) {
    it(label, () => {
      const { logger, lines, text } = capture();
      logger.info(fields, "something happened");
      expectNoSecrets(text(), label);
      expect(text(), label).toContain('"[REDACTED]"');
      // Everything else is still there: only the secret values went.
      expect(lines()[0]).toMatchObject({ level: "info", msg: "something happened", service: "rolecall" });
    });
  }

  it("in child loggers' bindings and in every level, down to debug", () => {
    const { logger, text } = capture();
    const child = logger.child({ component: "http", token: secrets.ROLECALL_STATUS_TOKEN });
    child.debug({ credentials }, "debug");
    child.warn({ authorization: `Bearer ${secrets.ROLECALL_STATUS_TOKEN}` }, "warn");
    child.error({ err: Object.assign(new Error("x"), { sessionToken: secrets.AWS_SESSION_TOKEN }) }, "error");
    expectNoSecrets(text(), "child logger");
    expect(text().match(/\[REDACTED\]/g)?.length).toBeGreaterThanOrEqual(4);
    expect(text()).toContain('"component":"http"');
  });
});

interface RunningDaemon {
  readonly url: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** SIGTERM, and the exit code once it has exited. */
  stop(): Promise<number | null>;
}

/** `rolecall run` at debug level with the fake secrets in its environment, every byte of its output kept. */
async function runDaemon(
  manifests: string,
  cloudArgs: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<RunningDaemon> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      cliPath,
      "run",
      "--manifests",
      manifests,
      "--port",
      String(port),
      "--log-level",
      "debug",
      "--resync",
      "1s",
      "--debounce",
      "50ms",
      ...cloudArgs,
    ],
    {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_REGION: testRegion,
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ...secrets,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      resolve(code);
    });
  });
  running.push(child);
  await waitFor(
    "the daemon to answer /healthz",
    async () => {
      if (child.exitCode !== null) throw new Error(`the daemon exited: ${output}`);
      return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok ?? false;
    },
    { timeoutMs: 20_000, context: () => output.slice(-2000) },
  );
  return {
    url,
    output: () => output,
    get: (target, headers = {}) => fetch(`${url}${target}`, { headers }),
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

const running: ReturnType<typeof spawn>[] = [];
const dirs = tempDirs("log-redaction");

afterAll(async () => {
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await dirs.cleanup();
});

const bearer = { authorization: `Bearer ${secrets.ROLECALL_STATUS_TOKEN}` };

interface StatusLike {
  summary: { manifests: number; ready: number; lastResyncAt: string | null };
  manifests: {
    name: string;
    generation: string;
    conditions: { type: string; status: string; observedGeneration: string }[];
  }[];
}

/** Converges, serves requests with right, wrong and misplaced tokens, takes an edit and a resync, and stops. */
async function exercise(
  daemon: RunningDaemon,
  manifests: string,
  edit: { file: string; name: string; content: string },
  expected: number,
): Promise<string> {
  const status = async () => (await (await daemon.get("/status", bearer)).json()) as StatusLike;
  await waitFor(
    "the daemon ready, and the expected manifests with it",
    async () => (await daemon.get("/readyz")).ok && (await status()).summary.ready === expected,
    {
      timeoutMs: 20_000,
      context: () => daemon.output().slice(-3000),
    },
  );
  const requests: [string, Record<string, string>, number][] = [
    ["/healthz", {}, 200],
    ["/readyz", {}, 200],
    ["/metrics", {}, 200],
    ["/status", bearer, 200],
    [`/status/${edit.name}`, bearer, 200],
    ["/status", {}, 401],
    ["/status", { authorization: `Bearer ${secrets.ROLECALL_STATUS_TOKEN.slice(0, -1)}x` }, 401],
    [
      "/status",
      { authorization: `Basic ${Buffer.from(`u:${secrets.AWS_SECRET_ACCESS_KEY}`).toString("base64")}` },
      401,
    ],
    [`/status?token=${secrets.ROLECALL_STATUS_TOKEN}`, {}, 401],
    [`/nothing/${secrets.AWS_SESSION_TOKEN.slice(0, 20)}`, bearer, 404],
  ];
  for (const [target, headers, code] of requests) {
    const response = await daemon.get(target, headers);
    expect(response.status, target.slice(0, 40)).toBe(code);
    expectNoSecrets(await response.text(), `response to ${target.slice(0, 20)}`);
  }
  // An edit, reconciled; then one more full resync.
  await writeFile(path.join(manifests, edit.file), edit.content);
  const before = (await status()).summary.lastResyncAt;
  await waitFor(
    "the edit reconciled and another resync",
    async () => {
      const document = await status();
      const view = document.manifests.find((candidate) => candidate.name === edit.name);
      const ready = view?.conditions.find((condition) => condition.type === "Ready");
      return (
        document.summary.lastResyncAt !== before &&
        ready?.status === "True" &&
        ready.observedGeneration === view?.generation &&
        daemon.output().includes(`"manifest":"${edit.name}"`)
      );
    },
    { timeoutMs: 20_000, context: () => daemon.output().slice(-3000) },
  );
  expect(await daemon.stop()).toBe(0);
  return daemon.output();
}

describe("rolecall run with fake credentials in its environment, at debug level", () => {
  it("--cloud sim: converges, serves, and nothing it writes contains a secret", async () => {
    const manifests = await dirs.make();
    await cp(path.join(repoRoot, "manifests"), manifests, { recursive: true });
    const daemon = await runDaemon(manifests, ["--cloud", "sim"], {});
    const original = await readFile(path.join(manifests, "dev-s3-read.yaml"), "utf8");
    const output = await exercise(
      daemon,
      manifests,
      {
        file: "dev-s3-read.yaml",
        name: "dev-s3-read",
        content: original.replace("my-dev-bucket", "my-other-dev-bucket"),
      },
      // staging-logs is in observe mode: drifted, never ready.
      2,
    );
    // It did log, at debug level, what it did: this is output worth searching.
    for (const expected of [
      '"msg":"rolecall started"',
      '"msg":"aws call"',
      '"msg":"reconciled"',
      '"level":"debug"',
      '"msg":"stopped"',
    ])
      expect(output).toContain(expected);
    expectNoSecrets(output, "daemon output");
  });

  describe("--cloud aws against moto_server, where the SDK really signs with them", () => {
    let moto: Moto;
    beforeAll(async () => {
      moto = await startMoto();
    });
    afterAll(async () => {
      await moto.stop();
    });

    it("converges, serves, and nothing it writes contains a secret", async () => {
      const { ec2 } = motoClients(moto);
      await launchInstances(ec2, { Team: "redaction" });
      const manifests = await dirs.make();
      const spec = { name: "redaction", matchTags: { Team: "redaction" } };
      await writeFile(path.join(manifests, "redaction.yaml"), manifestYaml(spec));
      const daemon = await runDaemon(manifests, ["--cloud", "aws"], { AWS_ENDPOINT_URL: moto.endpoint });
      const output = await exercise(
        daemon,
        manifests,
        {
          file: "redaction.yaml",
          name: "redaction",
          content: manifestYaml({ ...spec, grants: [{ bucket: "redaction-edited", access: "read-write" }] }),
        },
        1,
      );
      for (const expected of ['"msg":"aws call"', '"operation":"CreateRole"', '"msg":"reconciled"'])
        expect(output).toContain(expected);
      expectNoSecrets(output, "daemon output");
    });
  });
});
