import type { ConnectionOptions } from "node:tls";
import { ConfigError } from "./errors.js";
import type { Logger } from "./logger.js";
import { noopLogger } from "./logger.js";
import { hideSecret, readOptionFile, secretOption } from "./secrets.js";

/** SASL mechanisms, as kafkajs names them. */
export const SaslMechanism = {
  Plain: "plain",
  ScramSha256: "scram-sha-256",
  ScramSha512: "scram-sha-512",
  OAuthBearer: "oauthbearer",
} as const;
export type SaslMechanism = (typeof SaslMechanism)[keyof typeof SaslMechanism];

/** Kafka's names for the four combinations of TLS and SASL. */
export const SecurityProtocol = {
  Plaintext: "plaintext",
  Ssl: "ssl",
  SaslPlaintext: "sasl_plaintext",
  SaslSsl: "sasl_ssl",
} as const;
export type SecurityProtocol = (typeof SecurityProtocol)[keyof typeof SecurityProtocol];

/** An OAUTHBEARER token, as the token callback returns it. */
export interface OAuthBearerToken {
  readonly value: string;
}

export interface KafkaTlsOptions {
  /** PEM CA certificate(s) the brokers' certificates must chain to, instead of Node's bundled roots. Default: Node's roots. */
  readonly ca?: string | Buffer;
  /** File holding `ca`; contradicts `ca`. Default: none. */
  readonly caFile?: string;
  /** PEM client certificate (chain) for brokers that require one (mutual TLS); needs a key. Default: none. */
  readonly cert?: string | Buffer;
  /** File holding `cert`; contradicts `cert`. Default: none. */
  readonly certFile?: string;
  /** PEM private key of `cert`, unencrypted. Default: none. */
  readonly key?: string | Buffer;
  /** File holding `key`; contradicts `key`. Default: none. */
  readonly keyFile?: string;
  /** Check that a broker's certificate names the host connected to; `false` keeps only the chain check. Default: true. */
  readonly verifyHostname?: boolean;
}

export interface KafkaSaslOptions {
  /** `plain`, `scram-sha-256`, `scram-sha-512` or `oauthbearer`. Required. */
  readonly mechanism: SaslMechanism;
  /** User of `plain` and `scram-*`. Required for them. */
  readonly username?: string;
  /** Password of `plain` and `scram-*`. Never logged. Required for them, here or in `passwordFile`. */
  readonly password?: string;
  /** File holding the password (one trailing newline is dropped); contradicts `password`. Default: none. */
  readonly passwordFile?: string;
  /** `oauthbearer` only: returns a current token; called for every new connection. Required for it. */
  readonly oauthBearerProvider?: () => Promise<OAuthBearerToken>;
}

/** How the Kafka clients of the producer, the worker and the CLI reach secured brokers. */
export interface KafkaSecurityOptions {
  /** TLS to the brokers: `true` trusts Node's bundled roots; options add a CA, a client certificate. Default: false (plaintext). */
  readonly tls?: boolean | KafkaTlsOptions;
  /** SASL authentication; without `tls` the credentials cross the network in clear text (a warning is logged). Default: none. */
  readonly sasl?: KafkaSaslOptions;
}

/** The `sasl` option kafkajs takes. */
export type KafkaJsSasl =
  | { readonly mechanism: "plain"; readonly username: string; readonly password: string }
  | { readonly mechanism: "scram-sha-256"; readonly username: string; readonly password: string }
  | { readonly mechanism: "scram-sha-512"; readonly username: string; readonly password: string }
  | {
      readonly mechanism: "oauthbearer";
      readonly oauthBearerProvider: () => Promise<OAuthBearerToken>;
    };

/** What is safe to log about a connection's security: no secret, no key. */
export interface KafkaSecuritySummary {
  readonly protocol: SecurityProtocol;
  readonly mechanism: SaslMechanism | null;
  readonly username: string | null;
  readonly customCa: boolean;
  readonly clientCertificate: boolean;
  readonly verifyHostname: boolean;
}

/** Resolved security settings; `clientOptions()` gives what a kafkajs client takes. */
export interface KafkaSecurity {
  readonly summary: KafkaSecuritySummary;
  /** Options for `tls.connect`; null without TLS. */
  readonly tls: Readonly<ConnectionOptions> | null;
  /**
   * kafkajs `ssl` and `sasl`, fresh for each client: kafkajs keeps its authenticator on the sasl
   * object. The password is a non-enumerable property, so logging the object does not show it.
   */
  clientOptions(): { ssl?: ConnectionOptions; sasl?: KafkaJsSasl };
}

const MECHANISMS: readonly string[] = Object.values(SaslMechanism);

function pem(value: string | Buffer | undefined, file: string | undefined, name: string): Buffer | undefined {
  if (value !== undefined && file !== undefined)
    throw new ConfigError(`give either ${name} or ${name}File, not both`);
  if (file !== undefined) return readOptionFile(file, `${name}File`);
  return value === undefined ? undefined : Buffer.from(value);
}

function resolveTls(options: boolean | KafkaTlsOptions | undefined): ConnectionOptions | null {
  if (options === undefined || options === false) return null;
  const tls = options === true ? {} : options;
  const ca = pem(tls.ca, tls.caFile, "tls.ca");
  const cert = pem(tls.cert, tls.certFile, "tls.cert");
  const key = pem(tls.key, tls.keyFile, "tls.key");
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError("tls.cert and tls.key go together: give both or neither");
  }
  const verifyHostname = tls.verifyHostname ?? true;
  return {
    rejectUnauthorized: true,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert, key }),
    ...(verifyHostname ? {} : { checkServerIdentity: () => undefined }),
  };
}

interface ResolvedSasl {
  readonly mechanism: SaslMechanism;
  readonly username: string | null;
  readonly password: string | null;
  readonly oauthBearerProvider: (() => Promise<OAuthBearerToken>) | null;
}

function resolveSasl(options: KafkaSaslOptions | undefined): ResolvedSasl | null {
  if (options === undefined) return null;
  const { mechanism } = options;
  if (!MECHANISMS.includes(mechanism)) {
    throw new ConfigError(`sasl.mechanism must be one of ${MECHANISMS.join(", ")}, got ${String(mechanism)}`);
  }
  const password = secretOption(options.password, options.passwordFile, "sasl.password");
  if (mechanism === SaslMechanism.OAuthBearer) {
    if (typeof options.oauthBearerProvider !== "function") {
      throw new ConfigError("sasl.mechanism oauthbearer needs sasl.oauthBearerProvider (a token callback)");
    }
    if (options.username !== undefined || password !== undefined) {
      throw new ConfigError("sasl.mechanism oauthbearer takes a token callback, not a username or password");
    }
    return { mechanism, username: null, password: null, oauthBearerProvider: options.oauthBearerProvider };
  }
  if (options.oauthBearerProvider !== undefined) {
    throw new ConfigError(`sasl.oauthBearerProvider only applies to oauthbearer, not ${mechanism}`);
  }
  if (options.username === undefined || options.username === "") {
    throw new ConfigError(`sasl.mechanism ${mechanism} needs sasl.username`);
  }
  if (password === undefined || password === "") {
    throw new ConfigError(
      `sasl.mechanism ${mechanism} needs a password (sasl.password or sasl.passwordFile)`,
    );
  }
  return { mechanism, username: options.username, password, oauthBearerProvider: null };
}

function protocolOf(tls: boolean, sasl: boolean): SecurityProtocol {
  if (sasl) return tls ? SecurityProtocol.SaslSsl : SecurityProtocol.SaslPlaintext;
  return tls ? SecurityProtocol.Ssl : SecurityProtocol.Plaintext;
}

/**
 * Resolves TLS and SASL options once: reads the files, checks contradictions (ConfigError) and warns
 * when SASL runs without TLS.
 */
export function resolveKafkaSecurity(
  options: KafkaSecurityOptions = {},
  logger: Logger = noopLogger,
): KafkaSecurity {
  const tls = resolveTls(options.tls);
  const sasl = resolveSasl(options.sasl);
  if (sasl !== null && tls === null && sasl.mechanism === SaslMechanism.Plain) {
    logger.warn("SASL PLAIN without TLS sends the password in clear text: set tls");
  }
  const summary: KafkaSecuritySummary = Object.freeze({
    protocol: protocolOf(tls !== null, sasl !== null),
    mechanism: sasl?.mechanism ?? null,
    username: sasl?.username ?? null,
    customCa: tls?.ca !== undefined,
    clientCertificate: tls?.cert !== undefined,
    verifyHostname: tls === null || tls.checkServerIdentity === undefined,
  });
  return Object.freeze({
    summary,
    tls: tls === null ? null : Object.freeze(tls),
    clientOptions() {
      const client: { ssl?: ConnectionOptions; sasl?: KafkaJsSasl } = {};
      if (tls !== null) client.ssl = tls;
      if (sasl?.oauthBearerProvider != null) {
        client.sasl = { mechanism: SaslMechanism.OAuthBearer, oauthBearerProvider: sasl.oauthBearerProvider };
      } else if (sasl !== null) {
        const mechanism = sasl.mechanism as Exclude<SaslMechanism, "oauthbearer">;
        client.sasl = hideSecret(
          { mechanism, username: sasl.username as string } as KafkaJsSasl,
          "password",
          sasl.password as string,
        );
      }
      return client;
    },
  });
}
