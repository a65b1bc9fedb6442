// The diff report's renderers in-process: Markdown that survives being pasted into a PR comment, values in words,
// colour decisions, and rolecall's one line about Node.js.
import { describe, expect, it } from "vitest";
import { buildDiffReport } from "../../src/commands/diff-report.js";
import { code, renderDiffMarkdown } from "../../src/commands/diff-markdown.js";
import { renderDiffText } from "../../src/commands/diff-text.js";
import { fieldValueText } from "../../src/commands/diff-values.js";
import { nodeSupportNotice } from "../../src/commands/node-support.js";
import { textStyle, wantsColour } from "../../src/commands/text-style.js";
import { loadManifestSet, type ManifestSet } from "../../src/manifest-set/load-manifest-set.js";

const options = { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" as const };
const roots = { base: "base", head: "head" };

/** A set from YAML texts, each its own file under `root`. */
function set(root: string, ...texts: string[]): ManifestSet {
  return loadManifestSet(
    texts.map((text, index) => ({ file: `${root}/m${index}.yaml`, bytes: new TextEncoder().encode(text) })),
    options,
  );
}

const manifest = (name: string, grants: string, extra = "") =>
  `apiVersion: rolecall.dev/v1alpha1\nkind: InstanceAccess\nmetadata: {name: ${name}}\nspec:\n  instanceSelector: {matchTags: {Team: ${name}}}\n  grants: ${grants}\n${extra}`;

describe("Markdown for a pull-request comment", () => {
  it("folds a manifest section with many changes in <details>, with a blank line so its Markdown renders", () => {
    const many = Array.from({ length: 14 }, (_, index) => `{bucket: bucket-${index}, access: write}`).join(
      ", ",
    );
    const report = buildDiffReport(set("base"), set("head", manifest("wide", `[${many}]`)));
    const markdown = renderDiffMarkdown(report, roots);
    expect(markdown).toContain("<details>\n<summary>31 changes</summary>\n\n- **gains**");
    expect(markdown.trimEnd().endsWith("</details>")).toBe(true);
  });

  it("keeps under a size budget: past it, manifests are named only, and the summary still counts all", () => {
    const texts = Array.from({ length: 30 }, (_, index) =>
      manifest(`m${index}`, "[{bucket: bkt, access: read-write}]"),
    );
    const report = buildDiffReport(set("base"), set("head", ...texts));
    const markdown = renderDiffMarkdown(report, roots, 3_000);
    expect(markdown.length).toBeLessThan(3_000 + 2_000);
    expect(markdown).toContain("**0 changed, 30 added, 0 removed, 0 unchanged**");
    const shown = (markdown.match(/^#### `m\d+`/gm) ?? []).length;
    expect(shown).toBeGreaterThan(0);
    expect(markdown).toContain(
      `<summary>${30 - shown} more manifest(s) not shown: the comment would be too long</summary>`,
    );
    // Every manifest is there, either as a section or by name.
    for (let index = 0; index < 30; index += 1) expect(markdown).toContain(`\`m${index}\``);
  });

  it("code spans hold any text: backticks, newlines and HTML stay literal", () => {
    expect(code("plain")).toBe("`plain`");
    expect(code("a`b")).toBe("``a`b``");
    expect(code("`edge`")).toBe("`` `edge` ``");
    expect(code("line\nbreak")).toBe("`line\\u000abreak`");
    expect(code("<img src=x>")).toBe("`<img src=x>`");
  });

  it("a tag value with Markdown or HTML in it stays inside its code span", () => {
    const tags = (value: string) =>
      `apiVersion: rolecall.dev/v1alpha1\nkind: InstanceAccess\nmetadata: {name: t}\nspec:\n  instanceSelector: {matchTags: {Team: '${value}'}}\n  grants: [{bucket: bkt, access: read}]\n`;
    const report = buildDiffReport(set("base", tags("a")), set("head", tags("*x* <b>`y`</b>")));
    expect(renderDiffMarkdown(report, roots)).toContain(
      "- `spec.instanceSelector.matchTags`: `Team=a` → ``Team=*x* <b>`y`</b>``",
    );
  });
});

describe("overlaps, grouped by the manifest that brings them", () => {
  const byTags = (name: string, tags: string, ids = "") =>
    `apiVersion: rolecall.dev/v1alpha1\nkind: InstanceAccess\nmetadata: {name: ${name}}\nspec:\n  instanceSelector: {${ids}${tags}}\n  grants: [{bucket: bkt, access: read}]\n`;
  const others = Array.from({ length: 8 }, (_, index) =>
    byTags(`team-${index}`, `matchTags: {Team: t${index}}`),
  );

  it("one selector widened to many: one line naming how many manifests it now meets, every pair in the report", () => {
    const before = byTags("box", "", "instanceIds: [i-0123456789abcdef0]");
    const after = byTags("box", "matchTags: {Tier: web}", "instanceIds: [i-0123456789abcdef0], ");
    const report = buildDiffReport(set("base", before, ...others), set("head", after, ...others));
    expect(report.overlaps.added).toHaveLength(8);
    const lines = renderDiffText(report, roots)
      .split("\n")
      .filter((line) => line.startsWith("new overlap"));
    expect(lines).toEqual([
      "new overlap: box and 8 other manifests: team-0, team-1, team-2, team-3, team-4, team-5, team-6, team-7 (an instance selected by two enforce-mode manifests gets a composite role)",
    ]);
  });

  it("a few overlaps are listed pair by pair, with why", () => {
    const report = buildDiffReport(
      set("base", ...others),
      set("head", byTags("new", "matchTags: {Team: t1, Env: prod}"), ...others),
    );
    expect(renderDiffText(report, roots)).toContain(
      "new overlap: new and team-1: an instance tagged Env=prod, Team=t1 is selected by both (it gets a composite role with both policies)",
    );
  });
});

describe("text that cannot deceive a reviewer", () => {
  it("control characters and bidirectional overrides (Trojan Source) are shown escaped, in text and Markdown", () => {
    const tricky = (value: string) =>
      `apiVersion: rolecall.dev/v1alpha1\nkind: InstanceAccess\nmetadata: {name: t}\nspec:\n  instanceSelector: {matchTags: {Team: "${value}"}}\n  grants: [{bucket: bkt, access: read}]\n`;
    const report = buildDiffReport(set("base", tricky("a")), set("head", tricky("\\u202eevil\\u001b[2J")));
    const text = renderDiffText(report, roots);
    const markdown = renderDiffMarkdown(report, roots);
    for (const output of [text, markdown]) {
      expect(output).not.toContain("\u202e");
      expect(output).not.toContain("\u001b");
      expect(output).toContain("\\u202eevil\\u001b[2J");
    }
  });
});

describe("values in words", () => {
  it("lists, tags and absent sides", () => {
    expect(fieldValueText(["i-1", "i-2"])).toBe("i-1, i-2");
    expect(fieldValueText([])).toBe("(none)");
    expect(fieldValueText({})).toBe("(none)");
    expect(fieldValueText(null)).toBe("(none)");
    expect(fieldValueText({ Env: "prod", Team: "a" })).toBe("Env=prod, Team=a");
    expect(fieldValueText(true)).toBe("true");
  });

  it("quotes a tag whose key or value would read ambiguously", () => {
    expect(fieldValueText({ Name: "a, b", "k=v": "x", Empty: "", Pad: " p " })).toBe(
      'Name="a, b", "k=v"=x, Empty="", Pad=" p "',
    );
  });

  it("a manifest invalid in HEAD is named and not shown as removed", () => {
    const report = buildDiffReport(
      set("base", manifest("gone-bad", "[{bucket: bkt, access: read}]")),
      set("head", manifest("gone-bad", "[{bucket: bkt, acess: read}]")),
    );
    expect(report.invalidInHead).toEqual(["gone-bad"]);
    expect(report.changes).toEqual([]);
    const text = renderDiffText(report, roots);
    expect(text).toContain("gone-bad: invalid in HEAD, not compared");
    expect(text).toMatch(/^head\/m0\.yaml:\d+:\d+: /m);
  });
});

describe("colour", () => {
  it("only on a terminal, not with NO_COLOR set to anything non-empty, not on a dumb terminal", () => {
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: "0" })).toBe(false);
    expect(wantsColour({ isTTY: true }, { TERM: "dumb" })).toBe(false);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(wantsColour({}, {})).toBe(false);
  });

  it("no colour is the identity; colour wraps in SGR codes", () => {
    expect(textStyle(false).added("+ x")).toBe("+ x");
    expect(textStyle(true).added("+ x")).toBe("\u001b[32m+ x\u001b[39m");
  });
});

describe("the Node.js support line", () => {
  it("one line below Node.js 22, none from 22 on, none once the SDK's switch is set to true", () => {
    const line = nodeSupportNotice("v20.20.2", undefined);
    expect(line).toBe(
      "rolecall: note: Node.js v20.20.2 is past end of life; AWS SDK releases from January 2027 on need Node.js 22 (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true hides this line)",
    );
    expect(line?.includes("\n")).toBe(false);
    expect(nodeSupportNotice("v22.1.0", undefined)).toBeUndefined();
    expect(nodeSupportNotice("v24.0.0", undefined)).toBeUndefined();
    expect(nodeSupportNotice("v20.20.2", "true")).toBeUndefined();
    expect(nodeSupportNotice("v20.20.2", "false")).toBeDefined();
  });

  it("the CLI sets the SDK's switch before the SDK can read it", () => {
    expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBeDefined();
  });
});
