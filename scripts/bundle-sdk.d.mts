import type { Plugin } from "esbuild";

/** A client schema module's source with computed member keys naming its string constants written as literals. */
export function literalSchemaKeys(source: string): string;
/** The esbuild plugin that applies literalSchemaKeys to every `@aws-sdk/client-*` schema module. */
export const literalSchemaKeysPlugin: Plugin;
