/** The manifests directory itself could not be read: nothing may be concluded from its contents. */
export class ManifestDirectoryError extends Error {
  constructor(
    readonly directory: string,
    readonly code: string,
  ) {
    super(`cannot read manifests directory ${directory}: ${code}`);
    this.name = "ManifestDirectoryError";
  }
}
