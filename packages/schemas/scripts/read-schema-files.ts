import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { SchemaFile } from "../src/internal/schema-files.js";

/** Every `.avsc` file of a folder, sorted by name, with its exact text. */
export function readSchemaFiles(dir: string): SchemaFile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith(".avsc"))
    .sort()
    .map((file) => ({ file, source: readFileSync(join(dir, file), "utf8") }));
}
