import { ConfigError, SaslMechanism, SecurityProtocol } from "@tracehouse/schemas";
import type { KafkaSaslOptions, KafkaSecurityOptions, KafkaTlsOptions } from "@tracehouse/schemas";
import { RECORD_TABLES } from "@tracehouse/clickhouse";
import { WORKER_DEFAULTS } from "@tracehouse/worker";
import { optionTable, readOptions, secretOf } from "./spec.js";
import type { Environment, RawOptions, Sources } from "./spec.js";

/** Kafka: the brokers, the client id and the catalogue's topic prefix (defaults: the worker's). */
export const KAFKA_CONNECTION = optionTable(
  "Kafka",
  {
    brokers: {
      type: "list",
      flag: "brokers",
      env: "KAFKA_BROKERS",
      default: WORKER_DEFAULTS.brokers,
      doc: "comma-separated bootstrap brokers, host:port",
    },
    clientId: {
      type: "text",
      flag: "client-id",
      arg: "<id>",
      env: "TRACEHOUSE_CLIENT_ID",
      default: WORKER_DEFAULTS.clientId,
      doc: "Kafka client id",
    },
    topicPrefix: {
      type: "text",
      flag: "topic-prefix",
      arg: "<prefix>",
      env: "TRACEHOUSE_TOPIC_PREFIX",
      default: WORKER_DEFAULTS.topicPrefix,
      doc: "prefix of the catalogue's topic names",
    },
  },
  "Kafka connection",
);

/** Kafka: where records come from and where poison records go. */
export const KAFKA_CONSUMER = optionTable(
  "Kafka",
  {
    groupId: {
      type: "text",
      flag: "group-id",
      arg: "<id>",
      env: "TRACEHOUSE_GROUP_ID",
      // each command says what its group is; the worker's and replay's defaults are the library's
      defaultText: JSON.stringify(WORKER_DEFAULTS.groupId),
      doc: "consumer group shared by all worker pods",
    },
    tables: {
      type: "list",
      flag: "tables",
      env: "TRACEHOUSE_TABLES",
      defaultText: `all: ${RECORD_TABLES.join(",")}`,
      doc: "comma-separated tables to write; records of the others are skipped and counted",
    },
    topics: {
      type: "list",
      flag: "topics",
      env: "TRACEHOUSE_TOPICS",
      defaultText: "the catalogue topics of --tables",
      doc: "comma-separated topics to consume",
    },
    deadLetterTopic: {
      type: "text",
      flag: "dead-letter-topic",
      arg: "<topic>",
      env: "TRACEHOUSE_DEAD_LETTER_TOPIC",
      defaultText: "<prefix>dlq",
      doc: "where poison records go, with the reason in headers",
    },
  },
  "Kafka consumer",
);

/** Kafka TLS and SASL; the SASL password only from a file or the environment. */
export const KAFKA_SECURITY = optionTable("Kafka TLS and SASL", {
  protocol: {
    type: "choice",
    flag: "kafka-security-protocol",
    arg: "<protocol>",
    env: "KAFKA_SECURITY_PROTOCOL",
    choices: Object.values(SecurityProtocol),
    defaultText: "plaintext, or ssl / sasl_ssl when a CA file / SASL mechanism is given",
    doc: "as Kafka's security.protocol",
  },
  caFile: {
    type: "text",
    flag: "kafka-ca-file",
    arg: "<path>",
    env: "KAFKA_CA_FILE",
    defaultText: "Node's bundled roots",
    doc: "PEM CA certificate(s) the brokers' certificates must chain to",
  },
  certFile: {
    type: "text",
    flag: "kafka-cert-file",
    arg: "<path>",
    env: "KAFKA_CERT_FILE",
    defaultText: "none",
    doc: "PEM client certificate for brokers that require one (mutual TLS); needs --kafka-key-file",
  },
  keyFile: {
    type: "text",
    flag: "kafka-key-file",
    arg: "<path>",
    env: "KAFKA_KEY_FILE",
    defaultText: "none",
    doc: "PEM private key of --kafka-cert-file, unencrypted",
  },
  verifyHostname: {
    type: "boolean",
    flag: "kafka-verify-hostname",
    env: "KAFKA_VERIFY_HOSTNAME",
    default: true,
    doc: "check that a broker's certificate names the host connected to; false keeps only the chain check",
  },
  mechanism: {
    type: "choice",
    flag: "kafka-sasl-mechanism",
    arg: "<mechanism>",
    env: "KAFKA_SASL_MECHANISM",
    choices: [SaslMechanism.Plain, SaslMechanism.ScramSha256, SaslMechanism.ScramSha512],
    defaultText: "none",
    doc: "SASL mechanism (OAUTHBEARER: library only, through a token callback)",
  },
  username: {
    type: "text",
    flag: "kafka-sasl-username",
    arg: "<name>",
    env: "KAFKA_SASL_USERNAME",
    defaultText: "none",
    doc: "SASL user",
  },
  passwordFile: {
    type: "text",
    flag: "kafka-sasl-password-file",
    arg: "<path>",
    env: "KAFKA_SASL_PASSWORD_FILE",
    defaultText: "none",
    doc: "file holding the SASL password, e.g. a mounted Secret",
  },
  password: { type: "secret", env: "KAFKA_SASL_PASSWORD", doc: "SASL password", file: "passwordFile" },
});

function tlsFrom(values: ReturnType<typeof readSecurity>): KafkaTlsOptions {
  const { caFile, certFile, keyFile } = values;
  return {
    ...(caFile === undefined ? {} : { caFile }),
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
    verifyHostname: values.verifyHostname !== false,
  };
}

function saslFrom(
  values: ReturnType<typeof readSecurity>,
  raw: RawOptions,
  env: Environment,
): KafkaSaslOptions {
  if (values.mechanism === undefined) {
    throw new ConfigError("--kafka-security-protocol sasl_*: give --kafka-sasl-mechanism");
  }
  const { value: password, file: passwordFile } = secretOf(KAFKA_SECURITY, "password", raw, env);
  return {
    mechanism: values.mechanism as SaslMechanism,
    ...(values.username === undefined ? {} : { username: values.username }),
    ...(password === undefined ? {} : { password }),
    ...(passwordFile === undefined ? {} : { passwordFile }),
  };
}

const readSecurity = (raw: RawOptions, sources: Sources) => readOptions(KAFKA_SECURITY, raw, sources);

/** The `tls`/`sasl` options of the libraries from the flags and the environment. */
export function kafkaSecurityFrom(
  raw: RawOptions,
  env: Environment = process.env,
  sources: Sources = {},
): KafkaSecurityOptions {
  const values = readSecurity(raw, sources);
  const tlsGiven = [values.caFile, values.certFile, values.keyFile].some((file) => file !== undefined);
  const saslGiven = values.mechanism !== undefined;
  const protocol =
    values.protocol ??
    (saslGiven ? SecurityProtocol.SaslSsl : tlsGiven ? SecurityProtocol.Ssl : SecurityProtocol.Plaintext);
  const tls = protocol === SecurityProtocol.Ssl || protocol === SecurityProtocol.SaslSsl;
  const sasl = protocol === SecurityProtocol.SaslPlaintext || protocol === SecurityProtocol.SaslSsl;
  if (!tls && tlsGiven) throw new ConfigError(`--kafka-security-protocol ${protocol} takes no TLS files`);
  if (!sasl && saslGiven)
    throw new ConfigError(`--kafka-security-protocol ${protocol} takes no SASL mechanism`);
  return {
    ...(tls ? { tls: tlsFrom(values) } : {}),
    ...(sasl ? { sasl: saslFrom(values, raw, env) } : {}),
  };
}
