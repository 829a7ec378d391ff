import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTopicCatalogue } from "@tracehouse/schemas";
import { expect } from "chai";
import { readText } from "../src/deployment-files.js";
import { TOPICS_SCRIPT } from "../src/deployment-k8s.js";

describe("deployment artifacts (infra/)", function () {
  describe("topic creation script", function () {
    it("is valid sh and creates exactly the catalogue's topics, partitions and retention", function () {
      expect(spawnSync("sh", ["-n", TOPICS_SCRIPT]).status).to.equal(0);
      const dir = mkdtempSync(join(tmpdir(), "tracehouse-topics-"));
      try {
        const log = join(dir, "calls.jsonl");
        const recorder = join(dir, "kafka-topics.sh");
        writeFileSync(
          recorder,
          `#!${process.execPath}\nrequire("node:fs").appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + "\\n");\n`,
        );
        chmodSync(recorder, 0o755);
        const prefix = "acme.tracehouse.";
        const run = spawnSync("sh", [TOPICS_SCRIPT], {
          encoding: "utf8",
          env: {
            PATH: process.env["PATH"],
            KAFKA_BOOTSTRAP: "broker-a:9092,broker-b:9092",
            TOPIC_PREFIX: prefix,
            REPLICATION_FACTOR: "3",
            MIN_INSYNC_REPLICAS: "2",
            KAFKA_TOPICS_BIN: recorder,
          },
        });
        expect(run.status, run.stderr).to.equal(0);
        const calls = readText(log)
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as string[]);
        const created = calls.map((args) => {
          const value = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
          const configs = Object.fromEntries(
            args.flatMap((arg, i) =>
              args[i - 1] === "--config" ? [arg.split("=") as [string, string]] : [],
            ),
          );
          expect(args).to.include.members(["--create", "--if-not-exists"]);
          expect(value("--bootstrap-server")).to.equal("broker-a:9092,broker-b:9092");
          expect(value("--replication-factor")).to.equal("3");
          expect(configs["min.insync.replicas"]).to.equal("2");
          return {
            name: value("--topic"),
            partitions: Number(value("--partitions")),
            retentionMs: Number(configs["retention.ms"]),
            cleanupPolicy: configs["cleanup.policy"],
          };
        });
        const catalogue = createTopicCatalogue({ prefix }).all.map((spec) => ({
          name: spec.name,
          partitions: spec.partitions,
          retentionMs: spec.retentionMs,
          cleanupPolicy: spec.cleanupPolicy,
        }));
        expect(created).to.have.deep.members(catalogue);
        expect(created).to.have.length(catalogue.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    it("for a secured broker passes the worker's TLS and SASL settings as a client config file, the password not in the arguments", function () {
      const dir = mkdtempSync(join(tmpdir(), "tracehouse-topics-secure-"));
      try {
        const log = join(dir, "calls.jsonl");
        const recorder = join(dir, "kafka-topics.sh");
        writeFileSync(join(dir, "password"), "topics-secret-77\n");
        writeFileSync(
          recorder,
          `#!${process.execPath}\nconst fs = require("node:fs"); const args = process.argv.slice(2); const i = args.indexOf("--command-config");\n` +
            `fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args, config: i < 0 ? null : fs.readFileSync(args[i + 1], "utf8") }) + "\\n");\n`,
        );
        chmodSync(recorder, 0o755);
        const run = spawnSync("sh", [TOPICS_SCRIPT], {
          encoding: "utf8",
          env: {
            PATH: process.env["PATH"],
            KAFKA_BOOTSTRAP: "broker-a:9093",
            KAFKA_TOPICS_BIN: recorder,
            KAFKA_SECURITY_PROTOCOL: "sasl_ssl",
            KAFKA_CA_FILE: "/etc/tracehouse/secrets/ca.pem",
            KAFKA_SASL_MECHANISM: "scram-sha-512",
            KAFKA_SASL_USERNAME: "tracehouse-worker",
            KAFKA_SASL_PASSWORD_FILE: join(dir, "password"),
          },
        });
        expect(run.status, run.stderr).to.equal(0);
        const calls = readText(log)
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as { args: string[]; config: string | null });
        expect(calls).to.have.length(createTopicCatalogue().all.length);
        for (const call of calls) {
          expect(call.args.join(" ")).to.not.include("topics-secret-77");
          expect(call.config).to.include("security.protocol=SASL_SSL");
          expect(call.config).to.include("ssl.truststore.type=PEM");
          expect(call.config).to.include("ssl.truststore.location=/etc/tracehouse/secrets/ca.pem");
          expect(call.config).to.include("sasl.mechanism=SCRAM-SHA-512");
          expect(call.config).to.include(
            'org.apache.kafka.common.security.scram.ScramLoginModule required username="tracehouse-worker" password="topics-secret-77";',
          );
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
