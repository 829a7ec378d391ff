import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PRICES } from "@tracehouse/clickhouse";
import { expect } from "chai";
import { runCli } from "./helpers/cli.js";

interface PriceRow {
  model: string;
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million: number;
}

describe("tracehouse migrate --prices: the price table SQL (the Grafana dashboard) prices tokens with", function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tracehouse-prices-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the defaults, then the defaults with a price file over them; the latest write is current", async () => {
    const common = ["--data-dir", join(dir, "chdb"), "--database", "th_prices", "--log-level", "warn"];
    const current = async (): Promise<PriceRow[]> => {
      const result = await runCli([
        "query",
        "SELECT model, input_per_million, output_per_million, cached_input_per_million FROM th_prices.model_prices_current ORDER BY model",
        ...common,
      ]);
      expect(result.code, result.stderr).to.equal(0);
      return result.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as PriceRow);
    };

    const first = await runCli(["migrate", "--json", ...common]);
    expect(first.code, first.stderr).to.equal(0);
    expect(JSON.parse(first.stdout)).to.include({ prices: DEFAULT_PRICES.size });
    const defaults = await current();
    expect(defaults.map((row) => row.model)).to.deep.equal([...DEFAULT_PRICES.keys()].sort());
    expect(defaults.find((row) => row.model === "gpt-4o")).to.deep.equal({
      model: "gpt-4o",
      input_per_million: 2.5,
      output_per_million: 10,
      cached_input_per_million: 1.25,
    });

    const file = join(dir, "prices.json");
    writeFileSync(
      file,
      JSON.stringify({
        "gpt-4o": { input: 5, output: 20 },
        "In-House-Model": { input: 1, output: 2 },
        o3: null,
      }),
    );
    const second = await runCli(["migrate", "--json", ...common], { TRACEHOUSE_PRICES: file });
    expect(second.code, second.stderr).to.equal(0);
    const overridden = await current();
    const models = overridden.map((row) => row.model);
    expect(models).to.include("in-house-model").and.to.not.include("o3");
    expect(overridden).to.have.length(DEFAULT_PRICES.size);
    expect(overridden.find((row) => row.model === "gpt-4o")).to.deep.equal({
      model: "gpt-4o",
      input_per_million: 5,
      output_per_million: 20,
      cached_input_per_million: 5,
    });
  });
});
