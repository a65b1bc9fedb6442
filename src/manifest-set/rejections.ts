import type { Candidate } from "../manifest/examine-file.js";
import type { ManifestError } from "../manifest/manifest-error.js";

/**
 * The set's errors and the names they make invalid. Every rejection records its name too: the resources in AWS of
 * a manifest that failed a check must be left alone, not removed as if the manifest were gone.
 */
export class Rejections {
  readonly errors: ManifestError[] = [];
  readonly invalidNames = new Set<string>();
  readonly invalidNameFiles = new Map<string, string>();
  private readonly rejected = new Set<Candidate>();

  addInvalidName(name: string, file: string): void {
    this.invalidNames.add(name);
    this.invalidNameFiles.set(name, file);
  }

  reject(candidate: Candidate, error: ManifestError): void {
    this.rejected.add(candidate);
    this.errors.push(error);
    this.addInvalidName(candidate.manifest.metadata.name, candidate.file);
  }

  isRejected(candidate: Candidate): boolean {
    return this.rejected.has(candidate);
  }
}
