import { expect } from "chai";
import {
  ConfigError,
  ErrorCode,
  NonRetriableError,
  TracehouseError,
  isRetriable,
  isTracehouseError,
} from "../src/index.js";

describe("error hierarchy", () => {
  it("keeps code, retriable flag and cause", () => {
    const cause = new Error("socket hang up");
    const error = new TracehouseError("insert failed", { code: ErrorCode.Sink, cause });
    expect(error.retriable).to.equal(true);
    expect(error.code).to.equal("SINK");
    expect(error.cause).to.equal(cause);
    expect(isRetriable(error)).to.equal(true);
  });

  it("marks non-retriable errors and their subclasses", () => {
    const error = new ConfigError("lingerMs must be >= 0");
    expect(error).to.be.instanceOf(NonRetriableError);
    expect(error.name).to.equal("ConfigError");
    expect(error.code).to.equal("CONFIG");
    expect(isRetriable(error)).to.equal(false);
  });

  it("recognises only its own errors", () => {
    expect(isTracehouseError(new NonRetriableError("x"))).to.equal(true);
    expect(isTracehouseError(new Error("x"))).to.equal(false);
    expect(isRetriable(new Error("unknown"))).to.equal(true);
  });
});
