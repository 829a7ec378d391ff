import { expect } from "chai";
import {
  BaggageLimit,
  decodeBaggageValue,
  encodeBaggageValue,
  formatBaggage,
  isValidBaggageKey,
  parseBaggage,
  type BaggageEntry,
} from "../src/index.js";

function entries(header: unknown): [string, BaggageEntry][] | null {
  const parsed = parseBaggage(header);
  return parsed === null ? null : [...parsed];
}

describe("parseBaggage", () => {
  it("parses the specification's example", () => {
    expect(
      entries("key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue"),
    ).to.deep.equal([
      ["key1", { value: "value1", metadata: "property1;property2" }],
      ["key2", { value: "value2" }],
      ["key3", { value: "value3", metadata: "propertyKey=propertyValue" }],
    ]);
  });

  it("percent-decodes values as UTF-8", () => {
    expect(entries("userId=alice,serverNode=DF%2028,isProduction=false")).to.deep.equal([
      ["userId", { value: "alice" }],
      ["serverNode", { value: "DF 28" }],
      ["isProduction", { value: "false" }],
    ]);
    expect(entries("euro=%E2%82%AC,lower=%e2%82%ac")).to.deep.equal([
      ["euro", { value: "€" }],
      ["lower", { value: "€" }],
    ]);
  });

  it("replaces byte sequences that are not UTF-8 with U+FFFD and keeps a lone %", () => {
    expect(parseBaggage("a=%FF%FE")?.get("a")?.value).to.equal("\uFFFD\uFFFD");
    expect(parseBaggage("a=100%")?.get("a")?.value).to.equal("100%");
    expect(parseBaggage("a=%ZZ")?.get("a")?.value).to.equal("%ZZ");
  });

  it("keeps = inside values", () => {
    expect(parseBaggage("token=abc==")?.get("token")?.value).to.equal("abc==");
  });

  it("accepts empty values", () => {
    expect(entries("a=,b=2")).to.deep.equal([
      ["a", { value: "" }],
      ["b", { value: "2" }],
    ]);
  });

  it("combines repeated headers, as split by the specification's example", () => {
    expect(entries(["userId =   alice", "serverNode = DF%2028, isProduction = false"])).to.deep.equal([
      ["userId", { value: "alice" }],
      ["serverNode", { value: "DF 28" }],
      ["isProduction", { value: "false" }],
    ]);
  });

  it("drops malformed list-members and keeps the rest", () => {
    expect(
      entries('good=1,bad key=2,no-equals,q="quoted",bs=a\\b,ok=2;bad prop=1,fine=3;p=v w'),
    ).to.deep.equal([["good", { value: "1" }]]);
    expect(entries("a=1,(paren)=2,b=2")).to.deep.equal([
      ["a", { value: "1" }],
      ["b", { value: "2" }],
    ]);
  });

  it("keeps the first position and the last value of a repeated key", () => {
    expect(entries("a=1,b=2,a=3")).to.deep.equal([
      ["a", { value: "3" }],
      ["b", { value: "2" }],
    ]);
  });

  it("keeps at most 64 list-members", () => {
    const header = Array.from({ length: 100 }, (_, i) => `k${i}=${i}`).join(",");
    const parsed = parseBaggage(header);
    expect(parsed?.size).to.equal(BaggageLimit.maxMembers);
    expect(parsed?.has("k63")).to.equal(true);
    expect(parsed?.has("k64")).to.equal(false);
  });

  it("drops members past 8192 bytes", () => {
    const big = "v".repeat(4000);
    const parsed = parseBaggage(`a=${big},b=${big},c=${big},d=1`);
    expect([...(parsed?.keys() ?? [])]).to.deep.equal(["a", "b", "d"]);
  });

  it("returns null when nothing valid remains", () => {
    for (const value of ["", " , ", "no-equals", "bad key=1", undefined, 7, [1]]) {
      expect(parseBaggage(value), String(value)).to.equal(null);
    }
  });
});

describe("formatBaggage", () => {
  it("percent-encodes what is outside baggage-octet, and %", () => {
    const baggage = new Map<string, BaggageEntry>([
      ["plain", { value: "abc-._~!#$&'()*+/:<>?@[]^`{|}" }],
      ["space", { value: "DF 28" }],
      ["special", { value: '",;\\%' }],
      ["unicode", { value: "€ 😀" }],
    ]);
    expect(formatBaggage(baggage)).to.equal(
      "plain=abc-._~!#$&'()*+/:<>?@[]^`{|},space=DF%2028,special=%22%2C%3B%5C%25,unicode=%E2%82%AC%20%F0%9F%98%80",
    );
    expect(parseBaggage(formatBaggage(baggage))).to.deep.equal(baggage);
  });

  it("writes metadata after the value", () => {
    expect(formatBaggage(new Map([["k", { value: "v", metadata: "p1;p2=x" }]]))).to.equal("k=v;p1;p2=x");
  });

  it("never throws on lone surrogates", () => {
    expect(encodeBaggageValue("a\uD800b")).to.equal("a%EF%BF%BDb");
  });

  it("keeps whole members within 64 members and 8192 bytes", () => {
    const many = new Map(
      Array.from({ length: 70 }, (_, i) => [`k${i}`, { value: "v" }] as [string, BaggageEntry]),
    );
    expect(formatBaggage(many).split(",")).to.have.length(64);
    const big = new Map<string, BaggageEntry>([
      ["a", { value: "x".repeat(5000) }],
      ["b", { value: "y".repeat(5000) }],
      ["c", { value: "z" }],
    ]);
    const header = formatBaggage(big);
    expect(header.length).to.be.at.most(BaggageLimit.maxBytes);
    expect([...(parseBaggage(header)?.keys() ?? [])]).to.deep.equal(["a", "c"]);
  });

  it("formats nothing for empty baggage", () => {
    expect(formatBaggage(new Map())).to.equal("");
  });
});

describe("baggage helpers", () => {
  it("validates keys as RFC 7230 tokens", () => {
    expect(isValidBaggageKey("th.user_id")).to.equal(true);
    expect(isValidBaggageKey("!#$%&'*+-.^_`|~09AZaz")).to.equal(true);
    for (const key of ["", "a b", "a=b", "a,b", "a;b", 'a"b', "a(b", "é"])
      expect(isValidBaggageKey(key)).to.equal(false);
  });

  it("decodes what it encodes", () => {
    for (const value of ["", "plain", "100%", "a b,c;d", "日本語", "\u0000\u007f"]) {
      expect(decodeBaggageValue(encodeBaggageValue(value))).to.equal(value);
    }
  });
});
