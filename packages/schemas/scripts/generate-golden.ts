/**
 * Writes the golden encoded record of every schema version that has none yet, from its
 * hand-written JSON: test/fixtures/golden/<type>.v<N>.json → <type>.v<N>.bin, encoded
 * with that version (not the current one). Existing .bin files are never touched.
 * Usage: generate-golden.ts [folder], default test/fixtures/golden/.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { encodeWithVersion } from "../src/codec.js";
import { RECORD_TYPES } from "../src/record-type.js";
import { registry } from "../src/internal/default-registry.js";
import { goldenDir } from "./paths.js";

const dir = process.argv[2] === undefined ? goldenDir : resolve(process.argv[2]);
let missingJson = 0;
for (const recordType of RECORD_TYPES) {
  for (const version of registry.versions[recordType]) {
    const base = `${recordType}.v${version.version}`;
    const binPath = join(dir, `${base}.bin`);
    const jsonPath = join(dir, `${base}.json`);
    if (existsSync(binPath)) continue;
    if (!existsSync(jsonPath)) {
      process.stderr.write(
        `missing ${base}.json: write a realistic ${recordType} v${version.version} record first\n`,
      );
      missingJson++;
      continue;
    }
    const record = JSON.parse(readFileSync(jsonPath, "utf8")) as unknown;
    writeFileSync(binPath, encodeWithVersion(recordType, version, record), { flag: "wx" });
    process.stdout.write(`wrote ${base}.bin\n`);
  }
}
if (missingJson > 0) process.exit(1);
