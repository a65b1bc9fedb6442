import { readOwnership, type Tags } from "../../desired/ownership.js";
import type { ObservedInstanceProfile, ObservedPolicy, ObservedRole } from "../../observed/snapshot.js";
import type { ActionResponse } from "../../plan/apply-action.js";
import { AwsApiError } from "../aws-error.js";
import { absent, done } from "./handler.js";

/** A change refused because the resource is not, or no longer, rolecall's (or this manifest's). */
export class OwnershipError extends Error {
  readonly code = "NotOwned";
  constructor(
    readonly resource: string,
    message: string,
  ) {
    super(`${resource}: ${message}`);
    this.name = "OwnershipError";
  }
}

export function isConflict(error: unknown): boolean {
  return error instanceof AwsApiError && error.kind === "conflict";
}

export function isNotFound(error: unknown): boolean {
  return error instanceof AwsApiError && error.kind === "not-found";
}

/** A removal whose target is already gone has succeeded. */
export async function ignoreNotFound(call: Promise<unknown>): Promise<ActionResponse> {
  try {
    await call;
    return done;
  } catch (error) {
    if (isNotFound(error)) return absent;
    throw error;
  }
}

export function requireOwner(resource: string, tags: Tags | undefined, manifest: string): void {
  const ownership = readOwnership(tags ?? {});
  if (!ownership.managed || ownership.manifest !== manifest) {
    throw new OwnershipError(
      resource,
      `exists and is not owned by manifest "${manifest}"; it was left untouched`,
    );
  }
}

export interface CreateOrAdopt<T> {
  readonly resource: string;
  readonly manifest: string;
  readonly create: () => Promise<ActionResponse>;
  /** What exists under the name, read afresh; undefined when nothing does. */
  readonly readExisting: () => Promise<T | undefined>;
  /** Brings the existing resource up to what the create would have made (a policy's document). */
  readonly update?: (existing: T) => Promise<T>;
}

/**
 * Sends a create; when AWS answers that the name exists, reads what is there and takes it if this manifest owns it:
 * an earlier attempt may have succeeded unseen (a dropped response). Anything else keeps the original error.
 */
export async function createOrAdopt<T extends ObservedPolicy | ObservedRole | ObservedInstanceProfile>(
  options: CreateOrAdopt<T>,
): Promise<ActionResponse> {
  try {
    return await options.create();
  } catch (error) {
    if (!isConflict(error)) throw error;
    const existing = await options.readExisting();
    if (existing === undefined) throw error;
    requireOwner(options.resource, existing.tags, options.manifest);
    const resource = options.update === undefined ? existing : await options.update(existing);
    return { kind: "found", resource };
  }
}
