const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "3s", "5m", "1h", "1m30s" → milliseconds. A bare number means seconds. */
export function parseDuration(value: string): number {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join("") !== text) {
    throw new Error(`"${value}" is not a duration; use forms like 500ms, 3s, 5m, 1h`);
  }
  return Math.round(
    parts.reduce((total, part) => total + Number(part[1]) * (units[part[2] ?? "s"] ?? 1000), 0),
  );
}
