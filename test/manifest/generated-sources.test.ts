// The TypeScript types and the importable schema in src/manifest/generated/ are generated from
// schemas/instance-access.schema.json; this fails when someone edits the schema without `npm run gen:types`.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { instanceAccessSchema } from "../../src/manifest/generated/instance-access-schema.js";
import { repoRoot } from "../support/cli.js";

interface Generator {
  generateManifestSources: () => Promise<{ types: string; schemaModule: string }>;
  generateTargetsSchemaModule: () => Promise<string>;
  generateValidatorModule: (schema: URL, source: string) => Promise<string>;
  schemaPath: URL;
  targetsSchemaPath: URL;
}

const generated = path.join(repoRoot, "src", "manifest", "generated");
const hint = "stale generated source: run `npm run gen:types` and commit the result";

describe("generated manifest sources", () => {
  it("match what scripts/generate-manifest-types.mjs produces from the schema today", async () => {
    const script = pathToFileURL(path.join(repoRoot, "scripts", "generate-manifest-types.mjs")).href;
    const { generateManifestSources } = (await import(script)) as Generator;
    const { types, schemaModule } = await generateManifestSources();
    expect(await readFile(path.join(generated, "instance-access.ts"), "utf8"), hint).toBe(types);
    expect(await readFile(path.join(generated, "instance-access-schema.ts"), "utf8"), hint).toBe(
      schemaModule,
    );
  });

  it("hold each schema's validator and the targets schema as the generator writes them today", async () => {
    const script = pathToFileURL(path.join(repoRoot, "scripts", "generate-manifest-types.mjs")).href;
    const generator = (await import(script)) as Generator;
    const targets = path.join(repoRoot, "src", "targets", "generated");
    expect(await readFile(path.join(generated, "instance-access-validate.ts"), "utf8"), hint).toBe(
      await generator.generateValidatorModule(generator.schemaPath, "schemas/instance-access.schema.json"),
    );
    expect(await readFile(path.join(targets, "targets-validate.ts"), "utf8"), hint).toBe(
      await generator.generateValidatorModule(generator.targetsSchemaPath, "schemas/targets.schema.json"),
    );
    expect(await readFile(path.join(targets, "targets-schema.ts"), "utf8"), hint).toBe(
      await generator.generateTargetsSchemaModule(),
    );
  });

  it("embed the very schema editors use", async () => {
    const schema: unknown = JSON.parse(
      await readFile(path.join(repoRoot, "schemas", "instance-access.schema.json"), "utf8"),
    );
    expect(instanceAccessSchema).toEqual(schema);
  });
});
