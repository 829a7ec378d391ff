import { expect } from "chai";
import {
  formatTracestate,
  isValidTracestateKey,
  isValidTracestateValue,
  parseTracestate,
  TracestateLimit,
} from "../src/index.js";

function members(count: number, width = 2): string[] {
  return Array.from({ length: count }, (_, i) => `k${String(i + 1).padStart(width, "0")}=${i + 1}`);
}

describe("parseTracestate", () => {
  it("keeps list-members in order as raw key=value text", () => {
    expect(parseTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")).to.deep.equal([
      "rojo=00f067aa0ba902b7",
      "congo=t61rcWkgMzE",
    ]);
  });

  it("combines repeated headers in order", () => {
    expect(parseTracestate(["foo=1,bar=2", "rojo=1,congo=2", "baz=3"])).to.deep.equal([
      "foo=1",
      "bar=2",
      "rojo=1",
      "congo=2",
      "baz=3",
    ]);
  });

  it("ignores white space around members and skips empty members", () => {
    expect(parseTracestate("foo=1 \t , \t bar=2, \t baz=3")).to.deep.equal(["foo=1", "bar=2", "baz=3"]);
    expect(parseTracestate(["", "foo=1", " ", ","])).to.deep.equal(["foo=1"]);
    expect(parseTracestate("")).to.deep.equal([]);
  });

  it("keeps leading spaces of a value, which are part of it", () => {
    expect(parseTracestate("foo=  1")).to.deep.equal(["foo=  1"]);
  });

  it("accepts every allowed key and value character", () => {
    const key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    const tenantKey = `${key}@a-z0-9_-*/`;
    let value = "";
    for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) value += String.fromCharCode(c);
    expect(parseTracestate(`${key}=${value}`)).to.deep.equal([`${key}=${value}`]);
    expect(parseTracestate(`${tenantKey}=${value}`)).to.deep.equal([`${tenantKey}=${value}`]);
  });

  it("applies the Level 2 key length limit of 256 characters, @ anywhere after the first", () => {
    expect(parseTracestate(["foo=1", `${"z".repeat(256)}=1`])).to.have.length(2);
    expect(parseTracestate(["foo=1", `${"z".repeat(257)}=1`])).to.equal(null);
    expect(parseTracestate(["foo=1", `${"t".repeat(241)}@${"v".repeat(14)}=1`])).to.have.length(2);
    expect(parseTracestate(["foo=1", `${"t".repeat(254)}@v=1`])).to.have.length(2);
    expect(parseTracestate(["foo=1", `${"t".repeat(255)}@v=1`])).to.equal(null);
  });

  // Trace Context Level 2 §3.3.1.3.1: key = (lcalpha / DIGIT) 0*255(keychar), keychar includes "@"
  const level2Keys = [
    "foo@",
    "foo@@bar",
    `t@${"v".repeat(15)}`,
    `${"t".repeat(242)}@v`,
    "foo@bar@baz",
    "1foo",
  ];
  for (const key of level2Keys) {
    it(`accepts the Level 2 key ${key.length > 20 ? `of ${key.length} characters` : key}, keeping the others`, () => {
      expect(parseTracestate(`rojo=1,${key}=2,congo=3`)).to.deep.equal(["rojo=1", `${key}=2`, "congo=3"]);
      expect(isValidTracestateKey(key)).to.equal(true);
    });
  }

  it("keeps the first of repeated keys and every other member", () => {
    expect(parseTracestate("foo=1,bar=2,foo=3,baz=4")).to.deep.equal(["foo=1", "bar=2", "baz=4"]);
    expect(parseTracestate(["foo=1", "foo=2"])).to.deep.equal(["foo=1"]);
    // 33 members of which 32 are distinct: within the limit
    expect(parseTracestate([...members(32), "k01=again"])).to.have.length(TracestateLimit.maxMembers);
  });

  it("applies the value length limit", () => {
    expect(parseTracestate(`a=${"v".repeat(256)}`)).to.have.length(1);
    expect(parseTracestate(`a=${"v".repeat(257)}`)).to.equal(null);
  });

  const discarded: Record<string, string | string[]> = {
    "key with a space before =": "foo =1",
    "uppercase key": "FOO=1",
    "key with a dot": "foo.bar=1",
    "key starting with @": "@foo=1,bar=2",
    "key starting with _": "_foo=1,bar=2",
    "= in value": "foo=bar=baz",
    "empty value": "foo=,bar=3",
    "missing =": "foo,bar=3",
    "empty key": "=1",
    "tab inside a value": "foo=a\tb",
    "non-ASCII value": "foo=é",
    "33 members": members(33).join(","),
  };
  for (const [name, header] of Object.entries(discarded)) {
    it(`discards the whole tracestate on ${name}`, () => {
      expect(parseTracestate(header)).to.equal(null);
    });
  }

  it("accepts exactly 32 members", () => {
    expect(parseTracestate(members(32))).to.have.length(TracestateLimit.maxMembers);
  });

  it("truncates past 512 characters: members over 128 characters first, then from the end", () => {
    const big = `big=${"b".repeat(200)}`;
    const small = members(20, 2).map((m) => `${m}${"s".repeat(12)}`);
    // 20 small members fit in 512 characters only once the large member is gone
    expect(formatTracestate([...small, big]).length).to.be.above(TracestateLimit.maxLength);
    expect(parseTracestate([...small.slice(0, 10), big, ...small.slice(10)])).to.deep.equal(small);

    const onlyFromEnd = members(32, 2).map((m) => `${m}${"s".repeat(20)}`);
    const kept = parseTracestate(onlyFromEnd) ?? [];
    expect(kept).to.deep.equal(onlyFromEnd.slice(0, kept.length));
    expect(formatTracestate(kept).length).to.be.at.most(512);
    expect(formatTracestate(onlyFromEnd.slice(0, kept.length + 1)).length).to.be.above(512);
  });

  it("returns null for non-string input", () => {
    for (const value of [undefined, null, 1, {}, [1], Buffer.from("a=1")])
      expect(parseTracestate(value)).to.equal(null);
  });
});

describe("tracestate grammar helpers", () => {
  it("validates keys and values", () => {
    expect(isValidTracestateKey("congo")).to.equal(true);
    expect(isValidTracestateKey("0tenant@system")).to.equal(true);
    expect(isValidTracestateKey("Congo")).to.equal(false);
    expect(isValidTracestateValue(" leading")).to.equal(true);
    expect(isValidTracestateValue("trailing ")).to.equal(false);
    expect(isValidTracestateValue("a,b")).to.equal(false);
  });

  it("formats members joined by commas", () => {
    expect(formatTracestate(["a=1", "b=2"])).to.equal("a=1,b=2");
    expect(formatTracestate([])).to.equal("");
  });
});
