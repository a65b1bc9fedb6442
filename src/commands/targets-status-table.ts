import type { StatusDocument } from "../status/status-store.js";
import type { TargetStatusSection, TargetsStatusDocument } from "../status/targets-status.js";
import { allReady, leadershipLine, manifestsTable, statusRows } from "./status-table.js";

/** A target's section read as the document of one directory, so that the one-directory table can show it. */
function asDocument(section: TargetStatusSection): StatusDocument {
  const { summary, manifests, removed, errors, notices } = section;
  return { summary, manifests, removed, errors, notices };
}

function header(section: TargetStatusSection): string {
  const where = `account ${section.account}; ${section.regions.join(", ")}`;
  const unavailable =
    section.error === undefined ? "" : `\n  unavailable: ${section.error.code}: ${section.error.message}`;
  const connecting = section.state === "connecting" ? "\n  connecting" : "";
  return `target ${section.name} (${where})${unavailable}${connecting}`;
}

/**
 * `rolecall status` of a daemon run with --targets: the files in no target's directory, a table per target, and
 * who makes changes (one lease for all targets).
 */
export function renderTargetsStatusTable(document: TargetsStatusDocument, now: Date): string {
  const outside = document.outside.map(
    (error) => `invalid: ${error.file}:${error.line}:${error.column}: ${error.message}`,
  );
  const sections = document.targets.map((section) => {
    const table = section.reachable ? `\n${indent(manifestsTable(asDocument(section), now))}` : "";
    return `${header(section)}${table}`;
  });
  return [...outside, ...sections, leadershipLine(document)].join("\n\n");
}

/** Ready: no file outside every target, every target reached, and each of them ready as one directory is. */
export function allTargetsReady(document: TargetsStatusDocument): boolean {
  return (
    document.outside.length === 0 &&
    document.targets.every((section) => section.reachable && allReady(asDocument(section)))
  );
}

export function targetsStatusJson(document: TargetsStatusDocument) {
  return {
    source: document.source ?? null,
    summary: document.summary,
    targets: document.targets.map((section) => ({
      name: section.name,
      account: section.account,
      regions: section.regions,
      reachable: section.reachable,
      ...(section.error === undefined ? {} : { error: section.error }),
      manifests: statusRows(asDocument(section)),
      errors: section.errors,
    })),
    outside: document.outside,
    leadership: document.leadership ?? null,
  };
}

function indent(block: string): string {
  return block
    .split("\n")
    .map((line) => (line === "" ? line : `  ${line}`))
    .join("\n");
}
