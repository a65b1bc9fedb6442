/** The errno code of a failed file-system call (ENOENT, EACCES…), or its message when it has none. */
export function errorCode(error: unknown): string {
  if (error !== null && typeof error === "object" && "code" in error && typeof error.code === "string")
    return error.code;
  return error instanceof Error ? error.message : String(error);
}
