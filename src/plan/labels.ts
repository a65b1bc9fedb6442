/** Display names of resources, used in reasons, drift entries, issues and logs. */
export const label = {
  policy: (name: string) => `policy/${name}`,
  role: (name: string) => `role/${name}`,
  instanceProfile: (name: string) => `instance-profile/${name}`,
  instance: (id: string) => `instance/${id}`,
};

const maxShown = 4000;

/** A compact, bounded rendering of a value for reasons and drift entries. */
export function show(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > maxShown ? `${text.slice(0, maxShown)}…` : text;
}
