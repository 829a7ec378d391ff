import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { reportOnce } from "./internal/report.js";
import { repoRoot } from "./internal/repo.js";

/** The repo's secure test broker (infra/kafka/secure): one broker, three listeners, a test CA. */
export interface SecureKafka {
  /** PLAINTEXT listener: for setup (topics, reading back) without credentials. */
  readonly plaintextBrokers: readonly string[];
  /** SASL_SSL listener: PLAIN, SCRAM-SHA-256/512 (user `username`) and OAUTHBEARER (unsigned tokens). */
  readonly saslSslBrokers: readonly string[];
  /** SSL listener that requires a client certificate signed by the test CA. */
  readonly mtlsBrokers: readonly string[];
  /** PEM files made at start: the CA, and a client certificate and key it signed. */
  readonly caFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly username: string;
  /** File holding the user's random password (made at start; readable by the owner only). */
  readonly passwordFile: string;
  readonly password: string;
  /** Stops the broker (its data, certificates and password are kept for the next start). */
  stop(): void;
}

let running: SecureKafka | undefined;

function runScript(name: "start.sh" | "stop.sh"): string {
  const script = join(repoRoot(), "infra", "kafka", "secure", name);
  const run = spawnSync("bash", [script], {
    encoding: "utf8",
    env: { ...process.env, KAFKA_PORT: process.env["KAFKA_PORT"] ?? "19092" },
  });
  if (run.status !== 0) throw new Error(`${script} exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/**
 * Starts the secure test broker (or finds it running) through infra/kafka/secure/start.sh, on
 * ports KAFKA_SECURE_PORT … +3 (default KAFKA_PORT + 50). Call `stop()` in an `after` hook.
 */
export function useSecureKafka(): SecureKafka {
  if (running !== undefined) return running;
  const values = new Map<string, string>();
  for (const line of runScript("start.sh").split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match !== null) values.set(match[1]!, match[2]!);
  }
  const value = (key: string): string => {
    const found = values.get(key);
    if (found === undefined) throw new Error(`testkit: secure/start.sh printed no ${key}`);
    return found;
  };
  const certs = value("KAFKA_CERTS_DIR");
  const passwordFile = value("KAFKA_SASL_PASSWORD_FILE");
  const broker = {
    plaintextBrokers: [value("KAFKA_PLAINTEXT_BROKERS")],
    saslSslBrokers: [value("KAFKA_SASL_SSL_BROKERS")],
    mtlsBrokers: [value("KAFKA_MTLS_BROKERS")],
    caFile: join(certs, "ca.pem"),
    clientCertFile: join(certs, "client.crt"),
    clientKeyFile: join(certs, "client.key"),
    username: value("KAFKA_SASL_USERNAME"),
    passwordFile,
    password: readFileSync(passwordFile, "utf8").trim(),
    stop() {
      running = undefined;
      runScript("stop.sh");
    },
  };
  reportOnce(`Kafka (secure): SASL_SSL ${broker.saslSslBrokers[0]}, mTLS ${broker.mtlsBrokers[0]}`);
  running = broker;
  return broker;
}
