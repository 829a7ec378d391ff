/**
 * Fails (exit 1) when the schema files of a folder break the evolution rules, e.g. a new
 * version that old readers cannot read. Usage: check-evolution.ts [folder], default schemas/.
 */
import { resolve } from "node:path";
import { checkEvolution } from "../src/internal/evolution.js";
import { schemasDir } from "./paths.js";
import { readSchemaFiles } from "./read-schema-files.js";

const dir = process.argv[2] === undefined ? schemasDir : resolve(process.argv[2]);
const files = readSchemaFiles(dir);
const issues = checkEvolution(files);
if (files.length === 0) {
  process.stderr.write(`no .avsc files in ${dir}\n`);
  process.exit(1);
}
if (issues.length > 0) {
  for (const issue of issues) process.stderr.write(`${issue.file}: ${issue.message}\n`);
  process.stderr.write(`schema evolution check failed: ${issues.length} issue(s) in ${dir}\n`);
  process.exit(1);
}
process.stdout.write(`schema evolution check passed: ${files.map((f) => f.file).join(", ")}\n`);
