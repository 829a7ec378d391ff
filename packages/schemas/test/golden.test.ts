import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { RECORD_TYPES, avroSchemaOf, decodeRecord, schemaFingerprintOf } from "../src/index.js";
import { encodeWithVersion } from "../src/codec.js";
import { registry } from "../src/internal/default-registry.js";
import { goldenDir, goldenFiles, packageDir, readJson } from "./helpers/samples.js";

const GOLDEN = /^([a-z]+)\.v(\d+)\.bin$/;

describe("golden fixtures", () => {
  it("exist for every schema version", () => {
    const expected = RECORD_TYPES.flatMap((type) =>
      registry.versions[type].map((version) => `${type}.v${version.version}.bin`),
    ).sort();
    expect(goldenFiles(".bin")).to.deep.equal(expected);
    expect(goldenFiles(".json")).to.deep.equal(expected.map((file) => file.replace(/\.bin$/, ".json")));
  });

  for (const file of goldenFiles(".bin")) {
    const [, type, version] = GOLDEN.exec(file)!;
    const bytes = readFileSync(join(goldenDir, file));
    const written = readJson(join(goldenDir, file.replace(/\.bin$/, ".json")));

    it(`${file} carries the fingerprint of ${type} v${version}`, () => {
      expect(bytes.subarray(0, 2).toString("hex")).to.equal("c301");
      expect(bytes.subarray(2, 10).toString("hex")).to.equal(
        schemaFingerprintOf(type as (typeof RECORD_TYPES)[number], Number(version)),
      );
    });

    it(`${file} decodes into the current ${type} reader`, () => {
      const decoded = decodeRecord(bytes);
      expect(decoded.type).to.equal(type);
      expect(decoded.version).to.equal(Number(version));
      const fields = (avroSchemaOf(decoded.type) as { fields: { name: string; default?: unknown }[] }).fields;
      const expected = Object.fromEntries(
        fields.map((field) => [field.name, field.name in written ? written[field.name] : field.default]),
      );
      expect(decoded.record).to.deep.equal(expected);
    });

    it(`${file} is what its writer version still produces from the JSON`, () => {
      const writer = registry.versions[type as (typeof RECORD_TYPES)[number]][Number(version) - 1]!;
      expect(encodeWithVersion(type!, writer, written).equals(bytes)).to.equal(true);
    });
  }
});

describe("npm run golden", () => {
  const run = promisify(execFile);
  const script = join(packageDir, "scripts", "generate-golden.ts");
  const tsx = join(packageDir, "..", "..", "node_modules", ".bin", "tsx");

  it("writes only the missing .bin files and never overwrites one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "golden-"));
    try {
      cpSync(goldenDir, dir, { recursive: true });
      rmSync(join(dir, "execution.v1.bin"));
      writeFileSync(join(dir, "span.v1.bin"), "kept as is");
      const { stdout } = await run(tsx, [script, dir], { cwd: packageDir });
      expect(stdout.trim()).to.equal("wrote execution.v1.bin");
      expect(
        readFileSync(join(dir, "execution.v1.bin")).equals(readFileSync(join(goldenDir, "execution.v1.bin"))),
      ).to.equal(true);
      expect(readFileSync(join(dir, "span.v1.bin"), "utf8")).to.equal("kept as is");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails when a version has no JSON to encode", async () => {
    const dir = mkdtempSync(join(tmpdir(), "golden-"));
    try {
      cpSync(goldenDir, dir, { recursive: true });
      rmSync(join(dir, "metrics.v1.bin"));
      rmSync(join(dir, "metrics.v1.json"));
      const failure = await run(tsx, [script, dir], { cwd: packageDir }).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).to.equal(1);
      expect(failure?.stderr).to.contain("missing metrics.v1.json");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
