// The files shipped for GitOps repositories work as shipped: the CI example's validate and diff steps run (their
// shell, as written) on two checkouts, and the pre-commit hooks run rolecall validate on what pre-commit passes.
import { execFile } from "node:child_process";
import { chmod, cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cliPath, repoRoot, runCli } from "../support/cli.js";
import { tempDirs } from "../support/temp-dir.js";

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly run?: string;
  readonly uses?: string;
  readonly if?: string;
}
interface Workflow {
  readonly env: Record<string, string>;
  readonly jobs: Record<string, { readonly steps: readonly Step[] }>;
}

const temp = tempDirs("gitops");
afterAll(temp.cleanup);
let bin = "";

beforeAll(async () => {
  // `rolecall` on PATH, as `npm install --global rolecall` puts it, but running this build.
  bin = await temp.make();
  await writeFile(path.join(bin, "rolecall"), `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`);
  await chmod(path.join(bin, "rolecall"), 0o755);
});

interface ShellResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    execFile("bash", ["-e", "-c", script], { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error === null) resolve({ code: 0, stdout, stderr });
      else if (typeof error.code === "number") resolve({ code: error.code, stdout, stderr });
      else reject(new Error(`could not run: ${error.message}`));
    });
  });
}

describe("examples/ci/github-actions.yml", () => {
  let workflow: Workflow;
  let steps: readonly Step[];
  const step = (id: string) => {
    const found = steps.find((candidate) => candidate.id === id);
    if (found?.run === undefined) throw new Error(`no step ${id} with a run script`);
    return found.run;
  };

  /** A workspace as the workflow's two checkouts leave it, with these fixture directories as the manifests. */
  async function workspace(baseFixture: string | undefined, headFixture: string) {
    const dir = await temp.make();
    const manifests = workflow.env.MANIFESTS ?? "";
    if (baseFixture !== undefined)
      await cp(path.join(repoRoot, baseFixture), path.join(dir, "base", manifests), { recursive: true });
    else await mkdir(path.join(dir, "base"), { recursive: true });
    await cp(path.join(repoRoot, headFixture), path.join(dir, "head", manifests), { recursive: true });
    const env = {
      PATH: `${bin}:${process.env.PATH ?? ""}`,
      HOME: process.env.HOME,
      ...workflow.env,
      GITHUB_OUTPUT: path.join(dir, "github-output"),
      GITHUB_STEP_SUMMARY: path.join(dir, "step-summary"),
    };
    await writeFile(env.GITHUB_OUTPUT, "");
    await writeFile(env.GITHUB_STEP_SUMMARY, "");
    return { dir, env };
  }

  beforeAll(async () => {
    workflow = parse(
      await readFile(path.join(repoRoot, "examples/ci/github-actions.yml"), "utf8"),
    ) as Workflow;
    steps = Object.values(workflow.jobs)[0]?.steps ?? [];
  });

  it("validates, diffs and comments, then plans only with credentials and only when access changes", () => {
    const ids = steps.map((candidate) => candidate.id ?? candidate.uses ?? candidate.name);
    expect(ids.indexOf("validate")).toBeLessThan(ids.indexOf("diff"));
    expect(ids.indexOf("diff")).toBeLessThan(ids.indexOf("plan"));
    const comment = steps.findIndex(
      (candidate) => candidate.uses?.startsWith("actions/github-script") === true,
    );
    const credentials = steps.findIndex(
      (candidate) => candidate.uses?.startsWith("aws-actions/configure-aws-credentials") === true,
    );
    expect(comment).toBeGreaterThan(ids.indexOf("diff"));
    expect(credentials).toBeGreaterThan(comment);
    expect(credentials).toBeLessThan(ids.indexOf("plan"));
    expect(steps.find((candidate) => candidate.id === "plan")?.if).toBe(
      "steps.diff.outputs.changes == 'true'",
    );
    // No ${{ }} inside a shell script: a pull request's text must never become code.
    for (const candidate of steps) expect(candidate.run ?? "").not.toContain("${{");
  });

  it("the validate and diff steps, run as written on two checkouts: a change is a markdown comment and changes=true", async () => {
    const { dir, env } = await workspace("test/fixtures/diff/base", "test/fixtures/diff/head");
    expect(await bash(step("validate"), dir, env)).toMatchObject({ code: 0 });
    const diff = await bash(step("diff"), dir, env);
    expect(diff.code, diff.stderr).toBe(0);
    expect(await readFile(env.GITHUB_OUTPUT, "utf8")).toBe("changes=true\n");
    const comment = await readFile(path.join(dir, "rolecall-diff.md"), "utf8");
    expect(comment.startsWith("### rolecall diff\n\n**3 changed, 1 added, 1 removed, 2 unchanged")).toBe(
      true,
    );
    expect(await readFile(env.GITHUB_STEP_SUMMARY, "utf8")).toBe(comment);
  });

  it("no change of access: changes=false; the first pull request (no base directory) diffs against nothing", async () => {
    const same = await workspace("test/fixtures/diff/base", "test/fixtures/diff/reformatted");
    expect((await bash(step("diff"), same.dir, same.env)).code).toBe(0);
    expect(await readFile(same.env.GITHUB_OUTPUT, "utf8")).toBe("changes=false\n");
    const first = await workspace(undefined, "test/fixtures/diff/head");
    expect((await bash(step("diff"), first.dir, first.env)).code).toBe(0);
    expect(await readFile(path.join(first.dir, "rolecall-diff.md"), "utf8")).toContain(
      "0 changed, 6 added, 0 removed, 0 unchanged",
    );
  });

  it("an invalid manifest fails the validate step, and the diff step too", async () => {
    const { dir, env } = await workspace("test/fixtures/diff/base", "test/fixtures/diff/invalid-head");
    const validate = await bash(step("validate"), dir, env);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain("head/manifests/dev-read.yaml:10:7: unknown field");
    expect((await bash(step("diff"), dir, env)).code).toBe(1);
  });
});

describe(".pre-commit-hooks.yaml", () => {
  interface Hook {
    readonly id: string;
    readonly entry: string;
    readonly language: string;
    readonly files: string;
    readonly pass_filenames?: boolean;
    readonly args?: readonly string[];
  }
  let hooks: Hook[];

  beforeAll(async () => {
    hooks = parse(await readFile(path.join(repoRoot, ".pre-commit-hooks.yaml"), "utf8")) as Hook[];
  });

  it("runs rolecall validate, installed from this package (its bin), on YAML and JSON files", async () => {
    const packageJson = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")) as {
      bin: Record<string, string>;
      files: string[];
    };
    expect(packageJson.bin.rolecall).toBe("dist/cli.js");
    expect(packageJson.files).toContain("dist");
    expect(hooks.map((hook) => hook.id)).toEqual(["rolecall-validate", "rolecall-validate-directory"]);
    for (const hook of hooks) {
      expect(hook.entry).toBe("rolecall validate");
      expect(hook.language).toBe("node");
      const files = new RegExp(hook.files);
      for (const name of ["manifests/a.yaml", "b.yml", "c.json"]) expect(files.test(name), name).toBe(true);
      for (const name of ["README.md", "a.yaml.bak"]) expect(files.test(name), name).toBe(false);
    }
  });

  it("accepts a file of several YAML documents, which generic JSON Schema hooks refuse, and fails an invalid one", async () => {
    const [changed] = hooks;
    const dir = await temp.make();
    const file = path.join(dir, "two.yaml");
    const document = (name: string) =>
      `apiVersion: rolecall.dev/v1alpha1\nkind: InstanceAccess\nmetadata: {name: ${name}}\nspec:\n  instanceSelector: {matchTags: {Team: ${name}}}\n  grants: [{bucket: my-bucket, access: read}]\n`;
    await writeFile(file, `${document("one")}---\n${document("two")}`);
    // What pre-commit runs: the entry, the hook's args, then the file names.
    const args = [...(changed?.entry.split(" ").slice(1) ?? []), ...(changed?.args ?? []), file];
    expect(await runCli(args)).toMatchObject({ code: 0, stdout: "" });
    await writeFile(path.join(dir, "bad.yaml"), document("bad").replace("access: read", "access: reed"));
    const bad = await runCli([...args.slice(0, -1), path.join(dir, "bad.yaml")]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/bad\.yaml:6:\d+: /);
  });

  it("the directory hook validates a directory it is given, with no file names", () => {
    const directory = hooks[1];
    expect(directory?.pass_filenames).toBe(false);
    expect(directory?.args).toEqual(["manifests/"]);
  });
});
