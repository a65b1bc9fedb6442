import type { AccessEntry } from "../explain/access-entries.js";
import type { InstanceExplanation } from "../explain/explain-instance.js";

/** `explain --instance` for people: who selects it, what it holds, and its access declared and in effect. */
export function renderInstanceText(explained: InstanceExplanation): string {
  const { profile } = explained;
  const selectedBy =
    explained.manifests.length === 0
      ? "no manifest"
      : explained.manifests.map((manifest) => `${manifest.name} (${manifest.mode})`).join(", ");
  const held =
    profile.held === null ? "no profile" : `${profile.held}${profile.owned ? "" : " (not rolecall's)"}`;
  const wanted =
    profile.wanted === null
      ? "none"
      : `${profile.wanted}${profile.composite === null ? "" : ` (composite of ${profile.composite.members.join(" + ")})`}`;
  const lines = [
    `instance ${explained.instance} (${explained.state})`,
    `  selected by   ${selectedBy}`,
    `  holds         ${held}`,
    `  should hold   ${wanted}`,
    ...(explained.permissionsBoundary === null ? [] : [`  boundary      ${explained.permissionsBoundary}`]),
    "",
    "  declared",
    ...table(explained.declared),
    "",
    "  effective",
    ...(explained.effective === null
      ? ["    (the profile it holds is not rolecall's: not read)"]
      : table(explained.effective)),
    ...explained.notes.map((note) => `  ! ${note}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** `explain --bucket` for people: each instance reaching the bucket, and how. */
export function renderBucketText(explained: {
  bucket: string;
  instances: readonly {
    instance: string;
    declared: readonly AccessEntry[];
    effective: readonly AccessEntry[] | null;
  }[];
}): string {
  if (explained.instances.length === 0) return `no instance reaches bucket ${explained.bucket}\n`;
  const lines = [`bucket ${explained.bucket}`];
  for (const entry of explained.instances) {
    lines.push(`  ${entry.instance}`, "    declared", ...indent(table(entry.declared)), "    effective");
    lines.push(
      ...(entry.effective === null
        ? ["      (not rolecall's profile: not read)"]
        : indent(table(entry.effective))),
    );
  }
  return `${lines.join("\n")}\n`;
}

function table(entries: readonly AccessEntry[]): string[] {
  if (entries.length === 0) return ["    (none)"];
  const rows = entries.map((entry) => [
    entry.access,
    `${entry.bucket}/${entry.prefix ?? "*"}`,
    entry.manifests.length === 0 ? "(no manifest)" : `via ${entry.manifests.join(", ")}`,
  ]);
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows.map(
    (row) =>
      `    ${(row[0] ?? "").padEnd(widths[0] ?? 0)}  ${(row[1] ?? "").padEnd(widths[1] ?? 0)}  ${row[2] ?? ""}`,
  );
}

function indent(lines: readonly string[]): string[] {
  return lines.map((line) => `  ${line}`);
}
