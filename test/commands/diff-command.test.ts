// `rolecall diff BASE HEAD` through the built CLI, on the fixtures of test/fixtures/diff (see its README.md):
// the three outputs, the exit codes, errors in HEAD, and that it stays offline.
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath, repoRoot, runCliBatch, type CliResult } from "../support/cli.js";

const fixtures = "test/fixtures/diff";
const base = `${fixtures}/base`;
const head = `${fixtures}/head`;

/** One child process for most runs (see test/support/cli-batch.mjs); the offline and TTY runs have their own. */
const batch = {
  text: ["diff", base, head],
  json: ["diff", base, head, "--output", "json"],
  markdown: ["diff", base, head, "-o", "markdown"],
  reformatted: ["diff", base, `${fixtures}/reformatted`],
  same: ["diff", base, base, "-o", "json"],
  invalidText: ["diff", base, `${fixtures}/invalid-head`],
  invalidJson: ["diff", base, `${fixtures}/invalid-head`, "-o", "json"],
  fixingBase: ["diff", `${fixtures}/invalid-head`, base],
  missingHead: ["diff", base],
  badOutput: ["diff", base, head, "-o", "xml"],
  noDirectory: ["diff", base, `${fixtures}/no-such-directory`],
  observeByDefault: ["diff", base, head, "--mode", "observe", "-o", "json"],
} as const;
type Name = keyof typeof batch;
const results = new Map<Name, CliResult>();
const run = (name: Name): CliResult => results.get(name)!;

beforeAll(async () => {
  const names = Object.keys(batch) as Name[];
  const outputs = await runCliBatch(names.map((name) => batch[name]));
  names.forEach((name, index) => results.set(name, outputs[index]!));
});

interface DiffJson {
  changes: {
    manifest: string;
    change: string;
    file: { base: string | null; head: string | null };
    access: { added: { resource: string; actions: string[]; condition: unknown }[]; removed: unknown[] };
    fields: { field: string; base: unknown; head: unknown }[];
  }[];
  overlaps: { added: string[][]; removed: string[][] };
  summary: Record<string, number>;
  errors: { base: unknown[]; head: { file: string; line: number; column: number; message: string }[] };
}
const json = (name: Name) => JSON.parse(run(name).stdout) as DiffJson;

describe("rolecall diff --output text", () => {
  it("exits 2 and names the access gained per resource, in AWS's terms, for a grant widened to read-write", () => {
    const { code, stdout, stderr } = run("text");
    expect(code).toBe(2);
    expect(stderr).toBe("");
    const lines = stdout.split("\n");
    const start = lines.indexOf("dev-read: changed (dev-read.yaml)");
    expect(lines.slice(start, start + 4)).toEqual([
      "dev-read: changed (dev-read.yaml)",
      "  + s3:GetBucketLocation on arn:aws:s3:::my-bucket",
      '  + s3:ListBucket on arn:aws:s3:::my-bucket when s3:prefix StringLike "in/" or "in/*"',
      "  + s3:DeleteObject, s3:GetObject, s3:GetObjectVersion on arn:aws:s3:::my-bucket/in/*",
    ]);
  });

  it("a removed manifest loses its actions; an added one gains its own and says whom it selects", () => {
    const { stdout } = run("text");
    expect(stdout).toContain(
      "old-bucket-writer: removed (old-bucket-writer.yaml)\n  - s3:ListBucketMultipartUploads on arn:aws:s3:::old-bucket\n",
    );
    expect(stdout).toContain("    mode enforce, onConflict skip, deletionPolicy retain, adopt false\n");
    expect(stdout).toContain("new-analytics: added (new-analytics.yaml)\n");
    expect(stdout).toContain("    selects instances tagged Env=prod, Team=a\n");
  });

  it("selector, mode, onConflict, deletionPolicy and name changes, before → after", () => {
    const { stdout } = run("text");
    expect(stdout).toContain(
      [
        "settings: changed (settings.yaml)",
        "  ~ spec.instanceSelector.instanceIds: i-00000000000000001 → i-00000000000000001, i-00000000000000002",
        "  ~ spec.instanceSelector.matchTags: Env=staging → Env=staging, Tier=web",
        "  ~ spec.onConflict: skip → replace",
        "  ~ spec.deletionPolicy: delete → retain",
        "  ~ spec.iam.roleName: rolecall-settings → SettingsRole",
      ].join("\n"),
    );
    expect(stdout).toContain("logs-observe: changed (logs-observe.yaml)\n  ~ spec.mode: observe → enforce\n");
  });

  it("a manifest whose YAML layout, key order, comments and written-out defaults changed is not reported", () => {
    const { stdout } = run("text");
    expect(stdout).not.toMatch(/^layout:/m);
    expect(stdout).not.toMatch(/^team-a:/m);
  });

  it("reports new overlaps of enforce-mode selectors (an observe manifest turned enforce among them)", () => {
    const { stdout } = run("text");
    expect(stdout).toContain(
      "new overlap: new-analytics and team-a: an instance tagged Env=prod, Team=a is selected by both (it gets a composite role with both policies)\n",
    );
    expect(stdout).toContain(
      "new overlap: logs-observe and settings: an instance tagged Env=staging, Tier=web",
    );
    expect(stdout).toContain(
      "overlap gone: old-bucket-writer and team-a no longer select a common instance\n",
    );
    expect(stdout.trimEnd().split("\n").at(-1)).toBe(
      "3 changed, 1 added, 1 removed, 2 unchanged; 3 new overlap(s)",
    );
  });

  it("prints no colour into a pipe", () => {
    expect(run("text").stdout).not.toContain("\u001b[");
  });

  it("exits 0 when only the writing changed (other files, key order, JSON, defaults, labels)", () => {
    expect(run("reformatted")).toMatchObject({
      code: 0,
      stdout: "no change of access (0 changed, 0 added, 0 removed, 6 unchanged)\n",
      stderr: "",
    });
  });
});

describe("rolecall diff --output json", () => {
  it("has the contract's shape: changes, overlaps and summary (and errors)", () => {
    const report = json("json");
    expect(run("json").code).toBe(2);
    expect(Object.keys(report)).toEqual(["changes", "overlaps", "summary", "errors"]);
    expect(report.summary).toEqual({ added: 1, removed: 1, changed: 3, unchanged: 2 });
    expect(report.changes.map((entry) => [entry.manifest, entry.change])).toEqual([
      ["dev-read", "changed"],
      ["layout", "unchanged"],
      ["logs-observe", "changed"],
      ["new-analytics", "added"],
      ["old-bucket-writer", "removed"],
      ["settings", "changed"],
      ["team-a", "unchanged"],
    ]);
    for (const entry of report.changes)
      expect(Object.keys(entry)).toEqual(["manifest", "change", "file", "access", "fields"]);
  });

  it("access entries are {resource, actions, condition}, conditions as objects", () => {
    const devRead = json("json").changes.find((entry) => entry.manifest === "dev-read")!;
    expect(devRead.file).toEqual({ base: `${base}/dev-read.yaml`, head: `${head}/dev-read.yaml` });
    expect(devRead.access).toEqual({
      added: [
        { resource: "arn:aws:s3:::my-bucket", actions: ["s3:GetBucketLocation"], condition: null },
        {
          resource: "arn:aws:s3:::my-bucket",
          actions: ["s3:ListBucket"],
          condition: { StringLike: { "s3:prefix": ["in/", "in/*"] } },
        },
        {
          resource: "arn:aws:s3:::my-bucket/in/*",
          actions: ["s3:DeleteObject", "s3:GetObject", "s3:GetObjectVersion"],
          condition: null,
        },
      ],
      removed: [],
    });
    expect(devRead.fields).toEqual([]);
  });

  it("fields carry values, not text; an absent side is null", () => {
    const report = json("json");
    const settings = report.changes.find((entry) => entry.manifest === "settings")!;
    expect(settings.fields).toContainEqual({
      field: "spec.instanceSelector.matchTags",
      base: { Env: "staging" },
      head: { Env: "staging", Tier: "web" },
    });
    const added = report.changes.find((entry) => entry.manifest === "new-analytics")!;
    expect(added.file).toEqual({ base: null, head: `${head}/new-analytics.yaml` });
    expect(added.fields).toContainEqual({ field: "spec.mode", base: null, head: "enforce" });
  });

  it("overlaps are pairs of names", () => {
    expect(json("json").overlaps).toEqual({
      added: [
        ["logs-observe", "settings"],
        ["logs-observe", "team-a"],
        ["new-analytics", "team-a"],
      ],
      removed: [
        ["layout", "old-bucket-writer"],
        ["old-bucket-writer", "settings"],
        ["old-bucket-writer", "team-a"],
      ],
    });
  });

  it("--mode observe (the daemon's default for manifests without spec.mode): those do not compose", () => {
    const report = json("observeByDefault");
    // Only logs-observe (enforce in HEAD, written out) is enforce-mode there, alone: no overlap at all.
    expect(report.overlaps).toEqual({ added: [], removed: [] });
  });

  it("a directory compared with itself: every manifest unchanged, exit 0", () => {
    expect(run("same").code).toBe(0);
    expect(json("same").summary).toEqual({ added: 0, removed: 0, changed: 0, unchanged: 6 });
  });
});

describe("rolecall diff --output markdown", () => {
  it("a summary line, one section per changed manifest, access changes as a list of code spans", () => {
    const { code, stdout } = run("markdown");
    expect(code).toBe(2);
    expect(
      stdout.startsWith(
        "### rolecall diff\n\n**3 changed, 1 added, 1 removed, 2 unchanged; 3 new overlap(s)**\n",
      ),
    ).toBe(true);
    expect(stdout).toContain(
      "#### `dev-read`: changed\n\n`dev-read.yaml`\n\n- **gains** `s3:GetBucketLocation` on `arn:aws:s3:::my-bucket`\n",
    );
    expect(stdout).toContain(
      "- **gains** `s3:DeleteObject`, `s3:GetObject`, `s3:GetObjectVersion` on `arn:aws:s3:::my-bucket/in/*`\n",
    );
    expect(stdout).toContain("- **loses** `s3:ListBucketMultipartUploads` on `arn:aws:s3:::old-bucket`\n");
    expect(stdout).toContain("- `spec.deletionPolicy`: `delete` → `retain`\n");
    expect(stdout).toContain(
      "- **new**: `new-analytics` and `team-a`: an instance tagged `Env=prod`, `Team=a` is selected by both\n",
    );
    expect(stdout).toContain("2 manifest(s) unchanged.\n");
    expect((stdout.match(/^#### `/gm) ?? []).length).toBe(5);
  });
});

describe("rolecall diff: errors", () => {
  it("an invalid manifest in HEAD: exit 1, FILE:LINE:COL like validate, and it is not reported as removed", () => {
    const { code, stdout } = run("invalidText");
    expect(code).toBe(1);
    expect(stdout).toContain(
      `${fixtures}/invalid-head/dev-read.yaml:10:7: unknown field "acess" (did you mean "access"?) (at /spec/grants/0/acess)\n`,
    );
    expect(stdout).toContain("dev-read: invalid in HEAD, not compared\n");
    expect(stdout).not.toContain("removed (");
    const report = json("invalidJson");
    expect(report.errors.head.map((error) => `${error.file}:${error.line}:${error.column}`)).toEqual([
      `${fixtures}/invalid-head/dev-read.yaml:9:7`,
      `${fixtures}/invalid-head/dev-read.yaml:10:7`,
    ]);
    expect(report.changes.map((entry) => entry.manifest)).not.toContain("dev-read");
  });

  it("an invalid manifest in BASE that HEAD fixes: compared as added, exit 2, not 1", () => {
    const { code, stdout } = run("fixingBase");
    expect(code).toBe(2);
    expect(stdout).toContain("dev-read: added (dev-read.yaml) (its BASE version is invalid)\n");
    expect(stdout).toContain(`base: ${fixtures}/invalid-head/dev-read.yaml:10:7: unknown field "acess"`);
  });

  it("a wrong command line or a missing directory exits 1 (2 means changes)", () => {
    expect(run("missingHead").code).toBe(1);
    expect(run("missingHead").stderr).toContain("missing required argument 'head'");
    expect(run("badOutput").code).toBe(1);
    expect(run("badOutput").stderr).toContain("Allowed choices are text, json, markdown");
    expect(run("noDirectory")).toMatchObject({ code: 1, stdout: "" });
    expect(run("noDirectory").stderr).toContain(
      `cannot read manifests directory ${fixtures}/no-such-directory`,
    );
  });
});

// ---- offline: no credentials, every endpoint pointed at a listener that counts, and sockets trapped ----

/** Loaded before the CLI: any outgoing connection or name lookup ends the process with 99 and says what it was. */
const networkTrap = `
import net from "node:net";
import dns from "node:dns";
const trip = (what) => { process.stderr.write("NETWORK ATTEMPT: " + what + "\\n"); process.exit(99); };
net.Socket.prototype.connect = function () { trip("socket connect"); };
dns.lookup = () => trip("dns.lookup");
dns.promises.lookup = async () => trip("dns.promises.lookup");
globalThis.fetch = async () => trip("fetch");
`;

function runTrapped(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const trap = `data:text/javascript,${encodeURIComponent(networkTrap)}`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", trap, cliPath, ...args],
      { cwd: repoRoot, env, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error === null) resolve({ code: 0, stdout, stderr });
        else if (typeof error.code === "number") resolve({ code: error.code, stdout, stderr });
        else reject(new Error(`could not run the CLI: ${error.message}`));
      },
    );
  });
}

describe("rolecall diff is offline", () => {
  let listener: Server;
  let connections = 0;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => {
      listener.listen(0, "127.0.0.1", resolve);
    });
    const address = listener.address();
    const endpoint = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
    env = {
      PATH: process.env.PATH,
      HOME: "/nonexistent",
      AWS_ENDPOINT_URL: endpoint,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint,
      HTTP_PROXY: endpoint,
      HTTPS_PROXY: endpoint,
      AWS_REGION: "us-east-1",
    };
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        listener.close(() => {
          resolve();
        });
      }),
  );

  it("with no credentials and a trap on every socket, it gives the same report as in the open", async () => {
    const trapped = await runTrapped(["diff", base, head, "-o", "json"], env);
    expect(trapped.stderr).toBe("");
    expect(trapped.code).toBe(2);
    expect(trapped.stdout).toBe(run("json").stdout);
    expect(connections).toBe(0);
  });

  it("the trap is not vacuous: plan, which must reach AWS, trips it", async () => {
    const trapped = await runTrapped(["plan", "--manifests", base], env);
    expect(trapped.code).toBe(99);
    expect(trapped.stderr).toContain("NETWORK ATTEMPT");
  });
});

// ---- colour: only on a terminal, never with NO_COLOR ----

/** Runs the CLI with a pseudo-terminal as its stdout (Python's pty module: python3 is on every test machine). */
function runOnTty(args: readonly string[], extraEnv: NodeJS.ProcessEnv): Promise<CliResult> {
  const script = [
    "import os, pty, sys",
    "pid, fd = pty.fork()",
    "if pid == 0:",
    "    os.execv(sys.argv[1], sys.argv[1:])",
    "out = b''",
    "while True:",
    "    try:",
    "        data = os.read(fd, 65536)",
    "    except OSError:",
    "        break",
    "    if not data:",
    "        break",
    "    out += data",
    "_, status = os.waitpid(pid, 0)",
    "sys.stdout.buffer.write(out)",
    "sys.exit(os.waitstatus_to_exitcode(status))",
  ].join("\n");
  return new Promise((resolve, reject) => {
    execFile(
      "python3",
      ["-c", script, process.execPath, cliPath, ...args],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: "xterm", ...extraEnv },
        timeout: 30_000,
      },
      (error, stdout, stderr) => {
        if (error === null) resolve({ code: 0, stdout, stderr });
        else if (typeof error.code === "number") resolve({ code: error.code, stdout, stderr });
        else reject(new Error(`could not run the CLI: ${error.message}`));
      },
    );
  });
}

describe("rolecall diff colours", () => {
  it("colours + and - lines on a terminal, and not with NO_COLOR set", async () => {
    const [coloured, plain] = await Promise.all([
      runOnTty(["diff", base, head], {}),
      runOnTty(["diff", base, head], { NO_COLOR: "1" }),
    ]);
    expect(coloured.code).toBe(2);
    expect(coloured.stdout).toContain(
      "\u001b[32m  + s3:DeleteObject, s3:GetObject, s3:GetObjectVersion on arn:aws:s3:::my-bucket/in/*",
    );
    expect(coloured.stdout).toContain(
      "\u001b[31m  - s3:ListBucketMultipartUploads on arn:aws:s3:::old-bucket",
    );
    expect(plain.code).toBe(2);
    expect(plain.stdout).not.toContain("\u001b[");
    // The same report either way, once the colours are taken out.
    const strip = (text: string) => {
      let plainText = text.replace(/\r\n/g, "\n");
      for (const sgr of [32, 31, 33, 39, 1, 22, 2]) plainText = plainText.replaceAll(`\u001b[${sgr}m`, "");
      expect(plainText).not.toContain("\u001b");
      return plainText;
    };
    expect(strip(coloured.stdout)).toBe(strip(plain.stdout));
    expect(strip(plain.stdout)).toBe(run("text").stdout);
  });
});
