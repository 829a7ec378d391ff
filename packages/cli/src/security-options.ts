import { ConfigError, SaslMechanism, SecurityProtocol } from "@tracehouse/schemas";
import type { KafkaSaslOptions, KafkaSecurityOptions, KafkaTlsOptions } from "@tracehouse/schemas";
import { Option } from "commander";
import type { Command } from "commander";
import type { RawOptions } from "./options.js";

export type Environment = Readonly<Record<string, string | undefined>>;

/** Secrets read from the environment only: a flag would show them to anyone running `ps`. */
export const SECRET_ENV = {
  kafkaSaslPassword: "KAFKA_SASL_PASSWORD",
  clickhousePassword: "CLICKHOUSE_PASSWORD",
} as const;

const PASSWORD_MECHANISMS = [SaslMechanism.Plain, SaslMechanism.ScramSha256, SaslMechanism.ScramSha512];

/** Kafka TLS and SASL: `tracehouse worker`, `replay` and `rebuild`. */
export function addKafkaSecurityOptions(command: Command): Command {
  return command
    .optionsGroup("Kafka TLS and SASL:")
    .addOption(
      new Option(
        "--kafka-security-protocol <protocol>",
        "as Kafka's security.protocol (default: plaintext, or ssl / sasl_ssl when a CA file / SASL mechanism is given)",
      )
        .choices(Object.values(SecurityProtocol))
        .env("KAFKA_SECURITY_PROTOCOL"),
    )
    .addOption(
      new Option(
        "--kafka-ca-file <path>",
        "PEM CA certificate(s) the brokers' certificates must chain to (default: Node's bundled roots)",
      ).env("KAFKA_CA_FILE"),
    )
    .addOption(
      new Option(
        "--kafka-cert-file <path>",
        "PEM client certificate for brokers that require one (mutual TLS); needs --kafka-key-file",
      ).env("KAFKA_CERT_FILE"),
    )
    .addOption(
      new Option("--kafka-key-file <path>", "PEM private key of --kafka-cert-file, unencrypted").env(
        "KAFKA_KEY_FILE",
      ),
    )
    .addOption(
      new Option(
        "--kafka-verify-hostname <bool>",
        "check that a broker's certificate names the host connected to; false keeps only the chain check",
      )
        .choices(["true", "false"])
        .default("true")
        .env("KAFKA_VERIFY_HOSTNAME"),
    )
    .addOption(
      new Option("--kafka-sasl-mechanism <mechanism>", "SASL mechanism (default: none)")
        .choices(PASSWORD_MECHANISMS)
        .env("KAFKA_SASL_MECHANISM"),
    )
    .addOption(new Option("--kafka-sasl-username <name>", "SASL user").env("KAFKA_SASL_USERNAME"))
    .addOption(
      new Option(
        "--kafka-sasl-password-file <path>",
        `file holding the SASL password, e.g. a mounted Secret; or the password itself in ${SECRET_ENV.kafkaSaslPassword}`,
      ).env("KAFKA_SASL_PASSWORD_FILE"),
    );
}

/** The help section naming the secrets that are read from the environment only. */
export function addSecretEnvHelp(command: Command, kafka: boolean): Command {
  const lines = [
    "",
    "Secrets from the environment only (never a flag, which `ps` would show):",
    ...(kafka
      ? [
          `  ${SECRET_ENV.kafkaSaslPassword}   SASL password, instead of --kafka-sasl-password-file (env only)`,
        ]
      : []),
    `  ${SECRET_ENV.clickhousePassword}   ClickHouse password, instead of --clickhouse-password-file (env only)`,
  ];
  return command.addHelpText("after", lines.join("\n"));
}

function text(raw: RawOptions, name: string): string | undefined {
  const value = raw[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function tlsFrom(raw: RawOptions): KafkaTlsOptions {
  const caFile = text(raw, "kafkaCaFile");
  const certFile = text(raw, "kafkaCertFile");
  const keyFile = text(raw, "kafkaKeyFile");
  return {
    ...(caFile === undefined ? {} : { caFile }),
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
    verifyHostname: raw.kafkaVerifyHostname !== "false",
  };
}

function saslFrom(raw: RawOptions, env: Environment): KafkaSaslOptions {
  const mechanism = text(raw, "kafkaSaslMechanism");
  if (mechanism === undefined) {
    throw new ConfigError("--kafka-security-protocol sasl_*: give --kafka-sasl-mechanism");
  }
  const username = text(raw, "kafkaSaslUsername");
  const passwordFile = text(raw, "kafkaSaslPasswordFile");
  const password = env[SECRET_ENV.kafkaSaslPassword] || undefined;
  if (password !== undefined && passwordFile !== undefined) {
    throw new ConfigError(
      `give the SASL password either in ${SECRET_ENV.kafkaSaslPassword} or with --kafka-sasl-password-file, not both`,
    );
  }
  return {
    mechanism: mechanism as SaslMechanism,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(passwordFile === undefined ? {} : { passwordFile }),
  };
}

/** The `tls`/`sasl` worker options from the flags and the environment. */
export function kafkaSecurityFrom(raw: RawOptions, env: Environment): KafkaSecurityOptions {
  const tlsGiven = ["kafkaCaFile", "kafkaCertFile", "kafkaKeyFile"].some((name) => text(raw, name));
  const saslGiven = text(raw, "kafkaSaslMechanism") !== undefined;
  const protocol =
    text(raw, "kafkaSecurityProtocol") ??
    (saslGiven ? SecurityProtocol.SaslSsl : tlsGiven ? SecurityProtocol.Ssl : SecurityProtocol.Plaintext);
  const tls = protocol === SecurityProtocol.Ssl || protocol === SecurityProtocol.SaslSsl;
  const sasl = protocol === SecurityProtocol.SaslPlaintext || protocol === SecurityProtocol.SaslSsl;
  if (!tls && tlsGiven) throw new ConfigError(`--kafka-security-protocol ${protocol} takes no TLS files`);
  if (!sasl && saslGiven)
    throw new ConfigError(`--kafka-security-protocol ${protocol} takes no SASL mechanism`);
  return {
    ...(tls ? { tls: tlsFrom(raw) } : {}),
    ...(sasl ? { sasl: saslFrom(raw, env) } : {}),
  };
}
