import type { StatusStore } from "../status/status-store.js";

/** Without --permissions-boundary, /status says what that leaves open, for as long as the process runs. */
export function noticeMissingBoundary(status: StatusStore, permissionsBoundary: string | undefined): void {
  if (permissionsBoundary === undefined)
    status.setNotice(
      "NoPermissionsBoundary",
      "roles are created without a permissions boundary (--permissions-boundary): whoever holds rolecall's credentials could give a role more than S3 access",
    );
}
