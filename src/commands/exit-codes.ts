/** Exit codes shared by all commands, so CI pipelines can branch on them. */
export const exitCodes = {
  ok: 0,
  /** Something is invalid or could not be converged. */
  failure: 1,
  /** The command line was wrong (validate, apply, run); for plan: changes are pending. */
  usage: 2,
  changesPending: 2,
} as const;
