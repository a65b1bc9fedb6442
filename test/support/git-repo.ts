import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Git repositories for tests, made with the `git` binary (present where the tests run; rolecall itself never runs
 * it). Commits carry fixed identities and dates, so their times are known.
 */
export function git(cwd: string, ...args: string[]): string {
  return gitWith({}, cwd, args);
}

function gitWith(env: NodeJS.ProcessEnv, cwd: string, args: readonly string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
      GIT_CONFIG_NOSYSTEM: "1",
      HOME: cwd,
      ...env,
    },
  }).trim();
}

export async function initRepo(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  git(directory, "init", "--quiet", "--initial-branch=main");
}

/** Writes files (path → content) and commits them; returns the new commit's hash. */
export async function commitFiles(
  repo: string,
  files: Record<string, string>,
  message: string,
  date = "2026-03-01T10:00:00Z",
): Promise<string> {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(repo, file)), { recursive: true });
    await writeFile(path.join(repo, file), content);
  }
  git(repo, "add", "--all");
  gitWith({ GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }, repo, [
    "commit",
    "--quiet",
    "--allow-empty",
    "-m",
    message,
  ]);
  return git(repo, "rev-parse", "HEAD");
}

/**
 * git-sync's layout: a detached worktree per commit under `ROOT/.worktrees/HASH`, and `ROOT/LINK` a symbolic link
 * to the current one, swapped by rename. Returns the worktree's path.
 */
export function addSyncWorktree(repo: string, commit: string): string {
  const worktree = path.join(repo, ".worktrees", commit);
  git(repo, "worktree", "add", "--quiet", "--detach", worktree, commit);
  return worktree;
}
