import { DEFAULT_DEDUP_WINDOW, DEFAULT_TTL_DAYS } from "@tracehouse/clickhouse";
import { WORKER_DEFAULTS } from "@tracehouse/worker";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import {
  CLI_README,
  OPTIONS_SOURCES,
  README,
  cliReadmeWithReference,
  readmeWithReference,
  renderCliReference,
  optionsOf,
  renderConfigReference,
} from "../src/docs/config-reference.js";

/** How a JSDoc "Default: …" may spell a value: as JSON, with or without backticks, bytes in KiB/MiB. */
function spellings(value: unknown): string[] {
  const json = JSON.stringify(value);
  const forms = [json, String(value)];
  if (typeof value === "number" && value >= 1024 && value % 1024 === 0) {
    forms.push(value % (1024 * 1024) === 0 ? `${value / 1024 / 1024} MiB` : `${value / 1024} KiB`);
  }
  return forms;
}

describe("README configuration reference", () => {
  it("matches the options interfaces (run npm run docs:config after changing an option)", async () => {
    const readme = readFileSync(README, "utf8");
    expect(
      (await readmeWithReference(readme)) === readme,
      "README.md is stale: run npm run docs:config",
    ).to.equal(true);
  });

  it("documents every options interface it is built from, with a row per option", () => {
    const reference = renderConfigReference();
    for (const source of OPTIONS_SOURCES) expect(reference).to.include(source.title);
    expect(reference).to.match(/\| `brokers` \|/);
    expect(reference).to.match(/\| `maxBatchRows` \|/);
    expect(reference).to.match(/\| `lingerMs` \|/);
  });

  it("the CLI README's option reference matches the CLI's option tables (run npm run docs:config after changing one)", async () => {
    const readme = readFileSync(CLI_README, "utf8");
    expect(
      (await cliReadmeWithReference(readme)) === readme,
      "packages/cli/README.md is stale: run npm run docs:config",
    ).to.equal(true);
  });

  it("the CLI reference has a row per option, secrets without a flag, and each command's own defaults", () => {
    const reference = renderCliReference();
    expect(reference).to.match(
      /\| `--max-batch-rows <n>` \| `TRACEHOUSE_MAX_BATCH_ROWS` \| integer ≥ 1 \| `10000` \|/,
    );
    expect(reference).to.match(/\| — +\| `KAFKA_SASL_PASSWORD` +\| secret/);
    expect(reference).to.match(/\| — +\| `CLICKHOUSE_PASSWORD` +\| secret/);
    expect(reference).to.include('`receive`: `--client-id <id>` default `"tracehouse-receiver"`');
    expect(reference).to.match(
      /\| `--max-request-bytes <n>` \| `TRACEHOUSE_OTLP_MAX_REQUEST_BYTES` \| integer 1024–1073741824 \|/,
    );
  });

  it("the options interfaces' documented defaults are the libraries' exported defaults (one value, said twice only in words)", () => {
    const sources = [
      {
        file: "packages/worker/src/config.ts",
        name: "WorkerOptions",
        defaults: WORKER_DEFAULTS as Record<string, unknown>,
      },
      {
        file: "packages/clickhouse/src/ClickHouseTraceSchema.ts",
        name: "SchemaOptions",
        defaults: { ttlDays: DEFAULT_TTL_DAYS, dedupWindow: DEFAULT_DEDUP_WINDOW } as Record<string, unknown>,
      },
    ];
    for (const { file, name, defaults } of sources) {
      const docs = optionsOf({ title: name, file, name });
      for (const [option, value] of Object.entries(defaults)) {
        const doc = docs.find((d) => d.name === option);
        expect(doc, `${name}.${option} is documented`).to.not.equal(undefined);
        const said = /Default: (.+?)\.(\s|$)/.exec(doc!.doc)?.[1]?.replace(/`/g, "");
        expect(
          spellings(value),
          `${name}.${option}: "Default: ${said}" vs ${JSON.stringify(value)}`,
        ).to.include(said);
      }
    }
  });

  it("refuses a README without the generated section's markers", async () => {
    let error: unknown;
    await readmeWithReference("# no markers here\n").catch((e: unknown) => (error = e));
    expect(error)
      .to.be.instanceOf(Error)
      .with.property("message")
      .that.matches(/lacks the markers/);
  });
});
