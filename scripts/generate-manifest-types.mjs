// Generates, from the JSON Schemas in schemas/, the manifest's TypeScript types, modules holding the schemas
// themselves, and each schema's validator as standalone code, so the schemas stay the one source and the core needs
// no file I/O to validate. `npm run gen:types` writes them; test/manifest/generated-sources.test.ts fails when any
// is stale.
import { readFile, writeFile } from "node:fs/promises";
import { Ajv } from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";
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

export const validatorModulePath = new URL(
  "../src/manifest/generated/instance-access-validate.ts",
  import.meta.url,
);
export const targetsValidatorModulePath = new URL(
  "../src/targets/generated/targets-validate.ts",
  import.meta.url,
);

/**
 * A schema's validator as ajv's standalone code: compiling it when the daemon starts loaded ajv's compiler and cost
 * about 12 MiB of resident memory. Errors carry the schema and data (`verbose`) that schema-errors.ts words them
 * from; the editor keywords only annotate.
 */
export async function generateValidatorModule(schemaUrl, source) {
  const schema = JSON.parse(await readFile(schemaUrl, "utf8"));
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, code: { source: true, esm: true } });
  ajv.addKeyword({ keyword: "patternErrorMessage", schemaType: "string" });
  ajv.addKeyword({ keyword: "errorMessage", schemaType: "string" });
  const code = standaloneCode(ajv, ajv.compile(schema)).replace(/^"use strict";/, "");
  const banner = `/* Generated from ${source} by \`npm run gen:types\`. Do not edit by hand. */`;
  // ajv writes require() calls for its runtime helpers even for ES modules.
  const require =
    'import { createRequire } from "node:module";\nconst require = createRequire(import.meta.url);';
  return `${banner}\n// @ts-nocheck\n${require}\n${code}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { types, schemaModule } = await generateManifestSources();
  await writeFile(typesPath, types);
  await writeFile(schemaModulePath, schemaModule);
  await writeFile(targetsSchemaModulePath, await generateTargetsSchemaModule());
  await writeFile(
    validatorModulePath,
    await generateValidatorModule(schemaPath, "schemas/instance-access.schema.json"),
  );
  await writeFile(
    targetsValidatorModulePath,
    await generateValidatorModule(targetsSchemaPath, "schemas/targets.schema.json"),
  );
}
