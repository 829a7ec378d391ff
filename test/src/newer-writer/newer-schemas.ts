import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "../docs/config-reference.js";

export interface NewerSchemas {
  /** URL of a module exporting SCHEMA_FILES: the shipped schema files plus `execution.v<n+1>.avsc`. */
  readonly generatedUrl: string;
  /** The newer execution schema's new optional field. */
  readonly field: string;
}

/**
 * Writes into `dir` what a newer release of the schemas package would ship: every schema file of
 * the repository plus a next execution version with one more optional field. Nothing is committed.
 */
export function writeNewerSchemas(dir: string, field = "cost_usd"): NewerSchemas {
  const folder = join(REPO_ROOT, "schemas");
  const files = readdirSync(folder)
    .filter((file) => file.endsWith(".avsc"))
    .map((file) => ({ file, source: readFileSync(join(folder, file), "utf8") }));
  const executions = files.filter((f) => f.file.startsWith("execution.v"));
  const latest = executions.sort((a, b) => a.file.localeCompare(b.file, "en", { numeric: true })).at(-1)!;
  const schema = JSON.parse(latest.source) as { fields: unknown[] };
  schema.fields.push({
    name: field,
    type: ["null", "double"],
    default: null,
    doc: "Added by a newer writer than the worker under test.",
  });
  files.push({ file: `execution.v${executions.length + 1}.avsc`, source: JSON.stringify(schema, null, 2) });
  const path = join(dir, "schemas.generated.mjs");
  writeFileSync(path, `export const SCHEMA_FILES = ${JSON.stringify(files)};\n`);
  return { generatedUrl: pathToFileURL(path).href, field };
}
