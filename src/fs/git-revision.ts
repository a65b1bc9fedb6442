import * as fs from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";

/** Where the manifests were read from and, when that is inside a Git work tree, the commit checked out there. */
export interface ManifestSource {
  readonly path: string;
  /** The 40-hex commit checked out, or null when the directory is not in a Git work tree (or has no commit). */
  readonly revision: string | null;
  /** The commit's committer time, ISO-8601 in UTC; null without a revision. */
  readonly revisionTime: string | null;
  /** The first line of the commit message; null without a revision. */
  readonly subject: string | null;
}

interface GitDirs {
  /** The work tree's own Git directory: its HEAD (a linked worktree has one of its own). */
  readonly gitdir: string;
  /** Where objects and shared refs live: the main repository's Git directory for a linked worktree. */
  readonly commondir: string;
}

const hex40 = /^[0-9a-f]{40}$/;

/** isomorphic-git, loaded on first use: a directory that is not in Git never pays for it. */
async function loadGit() {
  return (await import("isomorphic-git")).default;
}

/**
 * Finds the Git directories of the work tree holding `start`: the nearest `.git` upwards, a directory (a clone)
 * or a file saying `gitdir: …` (a linked worktree, as git-sync makes one per commit). isomorphic-git reads refs,
 * packed refs and objects but does not follow a `.git` file, so that part is done here.
 */
async function findGitDirs(start: string): Promise<GitDirs | undefined> {
  for (let directory = start; ; directory = path.dirname(directory)) {
    const dotGit = path.join(directory, ".git");
    const kind = await stat(dotGit).catch(() => undefined);
    if (kind?.isDirectory() === true) return { gitdir: dotGit, commondir: dotGit };
    if (kind?.isFile() === true) {
      const pointer = /^gitdir:\s*(.+?)\s*$/m.exec(await readFile(dotGit, "utf8"));
      if (pointer?.[1] === undefined) return undefined;
      const gitdir = path.resolve(directory, pointer[1]);
      const common = await readFile(path.join(gitdir, "commondir"), "utf8").catch(() => undefined);
      return { gitdir, commondir: common === undefined ? gitdir : path.resolve(gitdir, common.trim()) };
    }
    if (path.dirname(directory) === directory) return undefined;
  }
}

/** The commit HEAD names: detached (a hash, as git-sync leaves it) or through a branch, loose or packed. */
async function readHead(dirs: GitDirs): Promise<string | undefined> {
  const head = (await readFile(path.join(dirs.gitdir, "HEAD"), "utf8")).trim();
  if (hex40.test(head)) return head;
  const ref = /^ref:\s*(\S+)$/.exec(head)?.[1];
  if (ref === undefined) return undefined;
  // A branch with no commit yet (a fresh `git init`) resolves to nothing: no revision.
  const git = await loadGit();
  return git.resolveRef({ fs, gitdir: dirs.commondir, ref }).catch(() => undefined);
}

/** What a commit says of itself, cached by hash: a commit never changes, and a pack is costly to open. */
const commits = new Map<string, { revisionTime: string; subject: string }>();
/** The daemon reads the revision at every directory read; a few recent commits are all it asks about again. */
const commitsKept = 16;

async function describeCommit(commondir: string, oid: string) {
  const known = commits.get(oid);
  if (known !== undefined) return known;
  const git = await loadGit();
  const { commit } = await git.readCommit({ fs, gitdir: commondir, oid });
  const described = {
    revisionTime: new Date(commit.committer.timestamp * 1000).toISOString(),
    subject: commit.message.split("\n", 1)[0] ?? "",
  };
  commits.set(oid, described);
  if (commits.size > commitsKept) commits.delete(commits.keys().next().value ?? oid);
  return described;
}

/**
 * The revision of the manifests directory, read without a `git` binary. The directory's real path is used, so
 * git-sync's layout (a link swapped atomically to the worktree of each new commit) reads the commit linked now.
 * Anything unreadable means "not in Git": the revision is information, never a reason to stop reconciling.
 */
export async function readManifestSource(directory: string): Promise<ManifestSource> {
  const none: ManifestSource = { path: directory, revision: null, revisionTime: null, subject: null };
  try {
    const dirs = await findGitDirs(await realpath(directory));
    const oid = dirs === undefined ? undefined : await readHead(dirs);
    if (dirs === undefined || oid === undefined) return none;
    return { path: directory, revision: oid, ...(await describeCommit(dirs.commondir, oid)) };
  } catch {
    return none;
  }
}
