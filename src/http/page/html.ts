/**
 * HTML built from templates that escape every value by default: a manifest name, a file path or an AWS error
 * message can hold `<script>`, and the page must show it as text. Only fragments made by `html` itself pass
 * through unescaped, so escaping cannot be forgotten at one call site.
 */
export class Html {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

export type Interpolation = Html | string | number | null | undefined | readonly Interpolation[];

const entities = /[&<>"'`=]/g;

/** Escapes text for element content and for quoted attribute values alike. */
export function escapeHtml(value: string | number): string {
  const text = String(value);
  // Most values (names, ids, times) have nothing to escape; testing first spares a pass that builds a new string.
  entities.lastIndex = 0;
  if (!entities.test(text)) return text;
  return text.replace(entities, (character) => `&#${character.charCodeAt(0)};`);
}

function render(value: Interpolation): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly Interpolation[]).map(render).join("");
  return escapeHtml(value as string | number);
}

const compacted = new WeakMap<TemplateStringsArray, readonly string[]>();

/**
 * The template's own text with each line break and the indentation around it made one space, which is all HTML
 * makes of them (Prettier lays templates out as HTML). Values are never touched, so a policy document shown in a
 * <pre> keeps its lines. At 1,000 manifests the indentation would be a sixth of the page.
 */
function compact(strings: TemplateStringsArray): readonly string[] {
  let parts = compacted.get(strings);
  if (parts === undefined) {
    parts = strings.map((part) => part.replace(/\s*\n\s*/g, " "));
    compacted.set(strings, parts);
  }
  return parts;
}

/** A tagged template: `html\`<b>${name}</b>\`` escapes `name`; nested `html` fragments and arrays of them are kept. */
export function html(strings: TemplateStringsArray, ...values: readonly Interpolation[]): Html {
  const parts = compact(strings);
  let text = parts[0] ?? "";
  values.forEach((value, index) => {
    text += render(value) + (parts[index + 1] ?? "");
  });
  return new Html(text);
}
