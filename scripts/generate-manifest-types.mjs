// Generates, from the JSON Schema in schemas/, the manifest's TypeScript types and a module holding the schema
// itself, so the schema stays the one source and the core needs no file I/O to validate.
// `npm run gen:types` writes both; test/manifest/generated-sources.test.ts fails when either is stale.
import { readFile, writeFile } from "node:fs/promises";
import { compile } from "json-schema-to-typescript";

const banner =
  "/* Generated from schemas/instance-access.schema.json by `npm run gen:types`. Do not edit by hand. */";
export const schemaPath = new URL("../schemas/instance-access.schema.json", import.meta.url);
export const typesPath = new URL("../src/manifest/generated/instance-access.ts", import.meta.url);
export const schemaModulePath = new URL(
  "../src/manifest/generated/instance-access-schema.ts",
  import.meta.url,
);

export async function generateManifestSources() {
  const schema = JSON.parse(await readFile(schemaPath, "utf8"));
  const types = await compile(schema, "InstanceAccess", {
    bannerComment: banner,
    additionalProperties: false,
    unreachableDefinitions: false,
    ignoreMinAndMaxItems: true,
    strictIndexSignatures: true,
    format: true,
    style: { printWidth: 110 },
  });
  const schemaModule = `${banner}\n\nexport const instanceAccessSchema = ${JSON.stringify(schema, null, 2)} as const;\n`;
  return { types, schemaModule };
}

export const targetsSchemaPath = new URL("../schemas/targets.schema.json", import.meta.url);
export const targetsSchemaModulePath = new URL("../src/targets/generated/targets-schema.ts", import.meta.url);

/** The Targets file's schema as a module, so loading a targets file needs no read of schemas/ at run time. */
export async function generateTargetsSchemaModule() {
  const schema = JSON.parse(await readFile(targetsSchemaPath, "utf8"));
  const banner =
    "/* Generated from schemas/targets.schema.json by `npm run gen:types`. Do not edit by hand. */";
  return `${banner}\n\nexport const targetsSchema = ${JSON.stringify(schema, null, 2)} as const;\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { types, schemaModule } = await generateManifestSources();
  await writeFile(typesPath, types);
  await writeFile(schemaModulePath, schemaModule);
  await writeFile(targetsSchemaModulePath, await generateTargetsSchemaModule());
}
