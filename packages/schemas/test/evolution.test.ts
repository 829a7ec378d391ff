import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { checkEvolution } from "../src/internal/evolution.js";
import type { SchemaFile } from "../src/internal/schema-files.js";
import { SCHEMA_FILES } from "../src/internal/schemas.generated.js";
import { readSchemaFiles } from "../scripts/read-schema-files.js";
import { evolutionFixturesDir, packageDir, schemasDir } from "./helpers/samples.js";

const run = promisify(execFile);

function fixture(name: string): SchemaFile[] {
  return readSchemaFiles(join(evolutionFixturesDir, name));
}

function messages(files: readonly SchemaFile[]): string[] {
  return checkEvolution(files).map((issue) => `${issue.file}: ${issue.message}`);
}

const V1 = SCHEMA_FILES.find((f) => f.file === "execution.v1.avsc")!;
const V2 = SCHEMA_FILES.find((f) => f.file === "execution.v2.avsc")!;

function edit(
  file: SchemaFile,
  change: (schema: { fields: Record<string, unknown>[] }) => void,
  name = file.file,
) {
  const schema = JSON.parse(file.source) as { fields: Record<string, unknown>[] };
  change(schema);
  return { file: name, source: JSON.stringify(schema) };
}

describe("schema evolution check", () => {
  it("passes on the shipped schemas", () => {
    expect(messages(SCHEMA_FILES)).to.deep.equal([]);
  });

  it("fails when a new version adds a field without a default (old records unreadable)", () => {
    expect(messages(fixture("added-required-field"))).to.deep.equal([
      "execution.v2.avsc: not backward compatible: v2 cannot read v1: no matching field for default-less io.tracehouse.AgentExecution.tenant_id",
    ]);
  });

  it("fails both ways when a field changes type", () => {
    const found = messages(fixture("changed-field-type"));
    expect(found).to.have.length(2);
    expect(found[0]).to.match(/^execution\.v2\.avsc: not backward compatible: v2 cannot read v1/);
    expect(found[1]).to.match(/^execution\.v2\.avsc: not forward compatible: v1 cannot read v2/);
  });

  it("fails when an enum symbol is removed without an enum default", () => {
    expect(messages(fixture("removed-enum-symbol"))).to.have.length(1);
    expect(messages(fixture("removed-enum-symbol"))[0]).to.contain("not backward compatible");
  });

  it("fails on optional fields without defaults and on non-[null, T] unions", () => {
    expect(messages(fixture("missing-defaults"))).to.deep.equal([
      "execution.v1.avsc: metadata: maps must default to {}",
      "execution.v1.avsc: input_summary: nullable fields must default to null",
      'execution.v1.avsc: tags: unions must be ["null", T]',
    ]);
  });

  it("fails when a field is dropped that old readers need (forward incompatible)", () => {
    const v2 = edit(V2, (s) => {
      s.fields = s.fields.filter((f) => f.name !== "status");
    });
    expect(messages([V1, v2])).to.deep.equal([
      "execution.v2.avsc: not forward compatible: v1 cannot read v2: no matching field for default-less io.tracehouse.AgentExecution.status",
    ]);
  });

  it("checks every pair of versions, not only neighbours", () => {
    const v3 = edit(
      V2,
      (s) => {
        s.fields = s.fields.filter((f) => f.name !== "retry_of_execution_id");
        s.fields.push({ name: "attempt", type: "long", default: 1 });
      },
      "execution.v3.avsc",
    );
    expect(messages([V1, V2, v3])).to.deep.equal([]);
    const v3Bad = edit(v3, (s) => {
      s.fields.push({ name: "priority", type: "int" });
    });
    expect(messages([V1, V2, v3Bad])).to.deep.equal([
      "execution.v3.avsc: not backward compatible: v3 cannot read v1: no matching field for default-less io.tracehouse.AgentExecution.priority",
      "execution.v3.avsc: not backward compatible: v3 cannot read v2: no matching field for default-less io.tracehouse.AgentExecution.priority",
    ]);
  });

  it("fails on naming, numbering, envelope and duplicate problems", () => {
    const badEnvelope = edit(V1, (s) => {
      const [first, second, ...rest] = s.fields;
      s.fields = [second!, first!, ...rest];
    });
    const duplicate = { file: "execution.v3.avsc", source: V2.source };
    const zeroWidth = edit(
      V1,
      (s) => {
        s.fields.push({ name: "nothing", type: { type: "array", items: "null" }, default: [] });
      },
      "error.v1.avsc",
    );
    const found = checkEvolution([
      { file: "execution.avsc", source: V1.source },
      { file: "audit.v1.avsc", source: V1.source },
      { file: "span.v1.avsc", source: "{" },
      { ...badEnvelope, file: "execution.v1.avsc" },
      V2,
      duplicate,
      { file: "event.v2.avsc", source: SCHEMA_FILES.find((f) => f.file === "event.v1.avsc")!.source },
      zeroWidth,
    ]).map((issue) => `${issue.file}: ${issue.message.split(":")[0]}`);
    expect(found).to.include.members([
      "execution.avsc: file name must be <record type>.v<version>.avsc",
      "audit.v1.avsc: unknown record type audit",
      "span.v1.avsc: not JSON",
      "execution.v1.avsc: must start with the envelope fields event_id, event_time, trace_id, span_id, parent_span_id, correlation_id, user_id, thread_id, execution_id, agent_name, metadata",
      "execution.v3.avsc: same fingerprint as execution.v2.avsc",
      "event.v2.avsc: event versions must be numbered 1, 2, 3, ... without gaps",
      "error.v1.avsc: nothing",
    ]);
  });

  describe("npm run check:evolution", () => {
    const script = join(packageDir, "scripts", "check-evolution.ts");
    const tsx = join(packageDir, "..", "..", "node_modules", ".bin", "tsx");

    it("exits 0 on schemas/", async () => {
      const { stdout } = await run(tsx, [script], { cwd: packageDir });
      expect(stdout).to.contain("schema evolution check passed");
      expect(
        readdirSync(schemasDir)
          .filter((f) => f.endsWith(".avsc"))
          .every((f) => stdout.includes(f)),
      ).to.equal(true);
    });

    it("exits 1 on an incompatible pair", async () => {
      const dir = join(evolutionFixturesDir, "added-required-field");
      const failure = await run(tsx, [script, dir], { cwd: packageDir }).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).to.equal(1);
      expect(failure?.stderr).to.contain("not backward compatible");
    });
  });
});
