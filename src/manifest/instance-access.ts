import type { InstanceAccess } from "./generated/instance-access.js";

export type { InstanceAccess, Grant, InstanceSelector, IamNames } from "./generated/instance-access.js";

export type AccessLevel = InstanceAccess["spec"]["grants"][number]["access"];
export type Mode = "enforce" | "observe";
export type OnConflict = "skip" | "replace";
export type DeletionPolicy = "delete" | "retain";

/** A schema-valid manifest and where it came from. */
export interface LoadedManifest {
  readonly manifest: InstanceAccess;
  readonly name: string;
  readonly file: string;
  /** 0-based index of the document in its file. */
  readonly documentIndex: number;
  readonly line: number;
  /** Content hash of the document: changes exactly when what the manifest says changes. */
  readonly generation: string;
}
