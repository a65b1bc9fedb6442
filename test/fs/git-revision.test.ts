import { rename, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readManifestSource } from "../../src/fs/git-revision.js";
import { addSyncWorktree, commitFiles, git, initRepo } from "../support/git-repo.js";
import { tempDirs } from "../support/temp-dir.js";

const dirs = tempDirs("git-revision");
afterAll(dirs.cleanup);

describe("readManifestSource: the commit checked out, without a git binary", () => {
  it("a plain clone: HEAD through its branch, the committer time and the subject", async () => {
    const repo = path.join(await dirs.make(), "repo");
    await initRepo(repo);
    const head = await commitFiles(
      repo,
      { "manifests/a.yaml": "a: 1\n" },
      "Grant analytics read\n\nlonger body",
      "2026-03-01T10:00:00+02:00",
    );
    const source = await readManifestSource(path.join(repo, "manifests"));
    expect(source).toEqual({
      path: path.join(repo, "manifests"),
      revision: head,
      revisionTime: "2026-03-01T08:00:00.000Z",
      subject: "Grant analytics read",
    });
  });

  it("after git gc: packed refs and a packfile", async () => {
    const repo = path.join(await dirs.make(), "repo");
    await initRepo(repo);
    await commitFiles(repo, { "m/a.yaml": "a: 1\n" }, "first");
    const head = await commitFiles(repo, { "m/a.yaml": "a: 2\n" }, "second");
    git(repo, "gc", "--quiet", "--prune=now");
    expect(git(repo, "count-objects", "-v")).toMatch(/^count: 0$/m);
    const source = await readManifestSource(path.join(repo, "m"));
    expect(source.revision).toBe(head);
    expect(source.subject).toBe("second");
  });

  it("a new commit checked out in place is read at the next call", async () => {
    const repo = path.join(await dirs.make(), "repo");
    await initRepo(repo);
    const first = await commitFiles(repo, { "a.yaml": "a: 1\n" }, "first");
    expect((await readManifestSource(repo)).revision).toBe(first);
    const second = await commitFiles(repo, { "a.yaml": "a: 2\n" }, "second");
    expect((await readManifestSource(repo)).revision).toBe(second);
    git(repo, "checkout", "--quiet", "--detach", first);
    expect((await readManifestSource(repo)).revision).toBe(first);
  });

  it("git-sync's layout: a symlink to a linked worktree (a .git file), swapped to the next commit", async () => {
    const root = path.join(await dirs.make(), "root");
    await initRepo(root);
    const first = await commitFiles(root, { "manifests/a.yaml": "a: 1\n" }, "first");
    const second = await commitFiles(root, { "manifests/a.yaml": "a: 2\n" }, "second");
    git(root, "gc", "--quiet");
    const link = path.join(root, "current");
    await symlink(addSyncWorktree(root, first), link);
    const manifests = path.join(link, "manifests");
    expect(await readManifestSource(manifests)).toMatchObject({
      path: manifests,
      revision: first,
      subject: "first",
    });
    await symlink(addSyncWorktree(root, second), `${link}.next`);
    await rename(`${link}.next`, link);
    expect(await readManifestSource(manifests)).toMatchObject({ revision: second, subject: "second" });
  });

  it("not in Git, a repository without a commit, or a broken .git file: revision null", async () => {
    const plain = await dirs.make();
    expect(await readManifestSource(plain)).toEqual({
      path: plain,
      revision: null,
      revisionTime: null,
      subject: null,
    });
    const empty = path.join(await dirs.make(), "empty");
    await initRepo(empty);
    expect((await readManifestSource(empty)).revision).toBeNull();
    const broken = await dirs.make();
    await writeFile(path.join(broken, ".git"), "gitdir: /nowhere/at/all\n");
    expect((await readManifestSource(broken)).revision).toBeNull();
    expect((await readManifestSource(path.join(plain, "missing"))).revision).toBeNull();
  });
});
