import { ConfigError } from "@tracehouse/schemas";
import { expect } from "chai";
import { sinkOptionsFrom } from "../src/options/clickhouse.js";
import { workerOptionsFrom } from "../src/options/worker.js";
import { noopLogger } from "@tracehouse/schemas";

describe("CLI security options", () => {
  it("infers sasl_ssl from a mechanism and ssl from a CA file; the password comes from the environment", () => {
    const options = workerOptionsFrom(
      {
        kafkaSaslMechanism: "scram-sha-256",
        kafkaSaslUsername: "u",
        kafkaCaFile: "ca.pem",
        kafkaVerifyHostname: "true",
      },
      { KAFKA_SASL_PASSWORD: "from-env" },
    );
    expect(options.tls).to.deep.equal({ caFile: "ca.pem", verifyHostname: true });
    expect(options.sasl).to.deep.equal({ mechanism: "scram-sha-256", username: "u", password: "from-env" });
    expect(workerOptionsFrom({ kafkaCaFile: "ca.pem" }, {}).sasl).to.equal(undefined);
    expect(
      workerOptionsFrom({ kafkaVerifyHostname: "false", kafkaSecurityProtocol: "ssl" }, {}).tls,
    ).to.deep.equal({
      verifyHostname: false,
    });
    expect(workerOptionsFrom({}, { KAFKA_SASL_PASSWORD: "ignored" })).to.not.have.property("sasl");
  });

  it("refuses contradictions with ConfigError", () => {
    expect(() =>
      workerOptionsFrom({ kafkaSecurityProtocol: "plaintext", kafkaCaFile: "ca.pem" }, {}),
    ).to.throw(ConfigError, /takes no TLS files/);
    expect(() =>
      workerOptionsFrom({ kafkaSecurityProtocol: "ssl", kafkaSaslMechanism: "plain" }, {}),
    ).to.throw(ConfigError, /takes no SASL mechanism/);
    expect(() => workerOptionsFrom({ kafkaSecurityProtocol: "sasl_ssl" }, {})).to.throw(
      ConfigError,
      /give --kafka-sasl-mechanism/,
    );
    expect(() =>
      workerOptionsFrom(
        { kafkaSaslMechanism: "plain", kafkaSaslUsername: "u", kafkaSaslPasswordFile: "f" },
        { KAFKA_SASL_PASSWORD: "p" },
      ),
    ).to.throw(ConfigError, /not both/);
    expect(() =>
      sinkOptionsFrom({ clickhousePasswordFile: "f" }, {}, noopLogger, { CLICKHOUSE_PASSWORD: "p" }),
    ).to.throw(ConfigError, /not both/);
  });

  it("passes the ClickHouse password from the environment and the CA and password files", () => {
    const options = sinkOptionsFrom(
      { clickhouseUrl: "https://ch:8443", clickhouseCaFile: "ca.pem", clickhousePasswordFile: "pw" },
      {},
      noopLogger,
      {},
    );
    expect(options).to.include({ url: "https://ch:8443", caFile: "ca.pem", passwordFile: "pw" });
    expect(sinkOptionsFrom({}, {}, noopLogger, { CLICKHOUSE_PASSWORD: "p" })).to.include({ password: "p" });
  });
});
