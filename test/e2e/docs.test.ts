import { expect } from "chai";
import { readFileSync } from "node:fs";
import {
  OPTIONS_SOURCES,
  README,
  readmeWithReference,
  renderConfigReference,
} from "../src/docs/config-reference.js";

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

  it("refuses a README without the generated section's markers", async () => {
    let error: unknown;
    await readmeWithReference("# no markers here\n").catch((e: unknown) => (error = e));
    expect(error)
      .to.be.instanceOf(Error)
      .with.property("message")
      .that.matches(/lacks the markers/);
  });
});
