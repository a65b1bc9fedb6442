/** One sample line of the Prometheus text exposition format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  /** Metric family name → type, from `# TYPE` lines. */
  readonly types: ReadonlyMap<string, string>;
  readonly help: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const types = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const suffixes: Readonly<Record<string, readonly string[]>> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

/**
 * A strict parser of the Prometheus text format (version 0.0.4): every line is a `# HELP`/`# TYPE` comment or
 * `name{label="value",…} value [timestamp]` (or empty); label values use only the \\ \" \n escapes; every sample belongs to
 * a family declared by a TYPE line before it. Throws on the first line that breaks a rule, naming it.
 */
export function parsePrometheusText(text: string): Exposition {
  const typeOf = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  if (text !== "" && !text.endsWith("\n")) throw new Error("exposition does not end with a newline");
  const lines = text.split("\n");
  lines.pop();
  for (const [index, line] of lines.entries()) {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line.startsWith("#")) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (match === null) continue; // other comments are allowed
      const [, kind, name = "", rest = ""] = match;
      if (!metricName.test(name)) fail("bad metric name");
      if (kind === "TYPE") {
        if (!types.has(rest)) fail("unknown type");
        if (typeOf.has(name)) fail("second TYPE for one family");
        typeOf.set(name, rest);
      } else {
        help.set(name, rest);
      }
      continue;
    }
    if (line === "") continue; // empty lines are ignored
    if (line.trim() === "") fail("white space line");
    const sample = parseSample(line, fail);
    if (familyOf(sample.name, typeOf) === undefined) fail("sample of a family without a TYPE line");
    samples.push(sample);
  }
  return { types: typeOf, help, samples };
}

function familyOf(name: string, typeOf: ReadonlyMap<string, string>): string | undefined {
  const own = typeOf.get(name);
  if (own !== undefined && own !== "histogram") return name;
  for (const [family, type] of typeOf) {
    for (const suffix of suffixes[type] ?? []) if (suffix !== "" && name === family + suffix) return family;
  }
  return undefined;
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  let position = 0;
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (nameMatch === null) fail("no metric name");
  const name = nameMatch[0];
  position = name.length;
  const labels: Record<string, string> = {};
  if (line[position] === "{") {
    position += 1;
    while (line[position] !== "}") {
      const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(position));
      if (labelMatch === null) fail("bad label");
      const label = labelMatch[1] ?? "";
      if (!labelName.test(label)) fail("bad label name");
      if (label in labels) fail("duplicate label");
      position += labelMatch[0].length;
      let value = "";
      for (;;) {
        const character = line[position];
        if (character === undefined) fail("unterminated label value");
        if (character === '"') break;
        if (character === "\\") {
          const escaped = line[position + 1];
          if (escaped === "\\") value += "\\";
          else if (escaped === '"') value += '"';
          else if (escaped === "n") value += "\n";
          else fail("bad escape in label value");
          position += 2;
          continue;
        }
        value += character;
        position += 1;
      }
      labels[label] = value;
      position += 1;
      if (line[position] === ",") position += 1;
      else if (line[position] !== "}") fail("expected , or } after a label");
    }
    position += 1;
  }
  const rest = /^ (\S+)(?: (-?\d+))?$/.exec(line.slice(position));
  if (rest === null) fail("expected ' value [timestamp]'");
  const raw = rest[1] ?? "";
  // Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case (prom-client
  // writes "Nan").
  const special = raw.toLowerCase();
  const value =
    special === "+inf" || special === "inf"
      ? Infinity
      : special === "-inf"
        ? -Infinity
        : special === "nan"
          ? Number.NaN
          : Number(raw);
  if (!/^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[+-]?inf|nan)$/i.test(raw)) fail("bad sample value");
  return { name, labels, value };
}

/** The sum of the samples of `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const matching = exposition.samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (matching.length === 0) return undefined;
  return matching.reduce((sum, sample) => sum + sample.value, 0);
}
