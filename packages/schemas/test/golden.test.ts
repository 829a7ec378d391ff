import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { RECORD_TYPES, avroSchemaOf, decodeRecord, schemaFingerprintOf } from "../src/index.js";
import { encodeWithVersion } from "../src/codec.js";
import { registry } from "../src/internal/default-registry.js";
import { goldenDir, goldenFiles, readJson } from "./helpers/samples.js";

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
