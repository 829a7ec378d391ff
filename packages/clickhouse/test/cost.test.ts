import { expect } from "chai";
import { ConfigError } from "@tracehouse/schemas";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { costOf, DEFAULT_PRICES, findPrice, loadPriceTable, parsePriceFile, priceKey } from "../src/index.js";

describe("model price table", () => {
  it("prices a dated model name under its undated name, and never a longer name under a shorter one", () => {
    expect(priceKey("GPT-4o-2024-08-06")).to.equal("gpt-4o");
    expect(priceKey("claude-sonnet-4-20250514")).to.equal("claude-sonnet-4");
    expect(findPrice(DEFAULT_PRICES, "gpt-4o-mini")).to.deep.equal(DEFAULT_PRICES.get("gpt-4o-mini"));
    expect(findPrice(DEFAULT_PRICES, "gpt-4o-mini-tts")).to.equal(null);
    expect(findPrice(DEFAULT_PRICES, "my-finetune")).to.equal(null);
    expect(findPrice(DEFAULT_PRICES, null)).to.equal(null);
  });

  it("costs input, cached input and output tokens per million", () => {
    const price = { inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: 0.5 };
    expect(costOf(price, { input: 1_000_000, output: 0, cachedInput: 0 })).to.equal(2);
    expect(costOf(price, { input: 1000, output: 500, cachedInput: 400 })).to.be.closeTo(
      (600 * 2 + 400 * 0.5 + 500 * 8) / 1e6,
      1e-12,
    );
    // cached input can never exceed input
    expect(costOf(price, { input: 100, output: 0, cachedInput: 1000 })).to.be.closeTo(
      (100 * 0.5) / 1e6,
      1e-15,
    );
  });

  it("reads a user file that overrides, extends and removes defaults", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "tracehouse-prices-"));
    const file = path.join(dir, "prices.json");
    writeFileSync(
      file,
      JSON.stringify({
        "gpt-4o": { input: 5, output: 15 },
        "in-house-7b": { input: 0.1, output: 0.2, cachedInput: 0 },
        o3: null,
      }),
    );
    const table = loadPriceTable(file);
    expect(table.get("gpt-4o")).to.deep.equal({
      inputPerMillion: 5,
      outputPerMillion: 15,
      cachedInputPerMillion: 5,
    });
    expect(table.get("in-house-7b")?.cachedInputPerMillion).to.equal(0);
    expect(table.has("o3")).to.equal(false);
    expect(table.get("gpt-4o-mini")).to.deep.equal(DEFAULT_PRICES.get("gpt-4o-mini"));
    expect(loadPriceTable()).to.equal(DEFAULT_PRICES);
  });

  it("rejects a malformed price file with a ConfigError", () => {
    for (const text of [
      "not json",
      "[]",
      '{"m": 3}',
      '{"m": {"input": 1}}',
      '{"m": {"input": -1, "output": 1}}',
      '{"m": {"input": "1", "output": 1}}',
    ]) {
      expect(() => parsePriceFile(text), text).to.throw(ConfigError);
    }
    expect(() => loadPriceTable("/nonexistent/prices.json")).to.throw(ConfigError);
  });
});
