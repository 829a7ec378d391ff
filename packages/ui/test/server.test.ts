import { expect } from "chai";
import { ConfigError } from "@tracehouse/schemas";
import { traceListFrom, parseAuth } from "../src/server/index.js";

describe("ui server parameters", () => {
  it("reads the trace list filters from the query string", () => {
    const now = Date.UTC(2026, 0, 1);
    const options = traceListFrom(
      new URLSearchParams(
        "range=600000&agent=a&user=u&thread=t&model=m&q=x&status=failed&errors=yes&minMs=5&sort=duration&order=asc&limit=10&offset=20",
      ),
      now,
    );
    expect(options).to.deep.include({
      agent: "a",
      userId: "u",
      threadId: "t",
      model: "m",
      text: "x",
      status: "failed",
      hasError: true,
      minDurationMs: 5,
      sort: "duration",
      descending: false,
      limit: 10,
      offset: 20,
    });
    expect(options.to.getTime() - options.from.getTime()).to.equal(600_000);
  });

  it("rejects bad parameters with a ConfigError (a 400, never a crash)", () => {
    for (const query of [
      "status=nope",
      "limit=abc",
      "limit=0",
      "from=yesterday",
      "from=20&to=10",
      `q=${"x".repeat(1001)}`,
      "sort=cost",
    ]) {
      expect(() => traceListFrom(new URLSearchParams(query)), query).to.throw(ConfigError);
    }
  });

  it("parses auth specs", () => {
    expect(parseAuth(undefined)).to.deep.equal({ kind: "none" });
    expect(parseAuth("bearer:abc")).to.deep.equal({ kind: "bearer", token: "abc" });
    expect(parseAuth("basic:me:p:w")).to.deep.equal({ kind: "basic", user: "me", password: "p:w" });
    expect(() => parseAuth("token")).to.throw(ConfigError);
  });
});
