import { isIP } from "node:net";
import { connect } from "node:tls";
import { SecurityError, SecurityErrorReason } from "./errors.js";
import type { KafkaSecurity } from "./kafka-security.js";

/** Node/OpenSSL verification codes of a server certificate that does not chain to a trusted CA. */
const UNTRUSTED_CODES: ReadonlySet<string> = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "INVALID_CA",
]);
const HOSTNAME_CODES: ReadonlySet<string> = new Set(["ERR_TLS_CERT_ALTNAME_INVALID", "HOSTNAME_MISMATCH"]);
const CLIENT_CERT_CODES: ReadonlySet<string> = new Set([
  "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
  "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN",
]);
const HANDSHAKE_CODES: ReadonlySet<string> = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
  "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
]);
/** kafkajs error names and protocol error types of a refused login. */
const AUTHENTICATION_NAMES: ReadonlySet<string> = new Set(["KafkaJSSASLAuthenticationError"]);
const AUTHENTICATION_TYPES: ReadonlySet<string> = new Set([
  "SASL_AUTHENTICATION_FAILED",
  "ILLEGAL_SASL_STATE",
]);

const ADVICE: Readonly<Record<SecurityErrorReason, string>> = {
  [SecurityErrorReason.Authentication]: "check the user, the password (or token) and the SASL mechanism",
  [SecurityErrorReason.UntrustedCertificate]:
    "its certificate does not chain to a trusted CA: give the CA that signed it (the CA file option)",
  [SecurityErrorReason.HostnameMismatch]:
    "its certificate does not name the host connected to: connect by a name the certificate holds",
  [SecurityErrorReason.ClientCertificate]: "it refused the client certificate (or required one)",
  [SecurityErrorReason.Handshake]: "the TLS handshake failed: does this port speak TLS?",
};

function reasonOf(error: object): SecurityErrorReason | null {
  const { code, name, type } = error as { code?: unknown; name?: unknown; type?: unknown };
  if (typeof code === "string") {
    if (UNTRUSTED_CODES.has(code)) return SecurityErrorReason.UntrustedCertificate;
    if (HOSTNAME_CODES.has(code)) return SecurityErrorReason.HostnameMismatch;
    if (CLIENT_CERT_CODES.has(code)) return SecurityErrorReason.ClientCertificate;
    if (HANDSHAKE_CODES.has(code)) return SecurityErrorReason.Handshake;
  }
  if (typeof name === "string" && AUTHENTICATION_NAMES.has(name)) return SecurityErrorReason.Authentication;
  if (typeof type === "string" && AUTHENTICATION_TYPES.has(type)) return SecurityErrorReason.Authentication;
  return null;
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * The SecurityError an error (or one of its causes) stands for: a refused login, an untrusted or
 * misnamed server certificate, a refused client certificate, a failed handshake; null for anything
 * else (an outage stays retriable). `service` names what refused ("kafka", "clickhouse").
 */
export function securityErrorOf(error: unknown, service: string, endpoint?: string): SecurityError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    if (current instanceof SecurityError) return current;
    const reason = reasonOf(current);
    if (reason !== null) {
      const where =
        endpoint ?? (current as { broker?: unknown }).broker ?? (error as { broker?: unknown }).broker;
      const at = typeof where === "string" ? ` ${where}` : "";
      const detail = firstLine(String((current as { message?: unknown }).message ?? ""));
      return new SecurityError(
        reason,
        `${service}${at} refused the connection: ${ADVICE[reason]} (${detail})`,
        {
          endpoint: typeof where === "string" ? where : null,
          cause: error,
        },
      );
    }
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

const CLIENT_CERT_VERDICT_MS = 250;

function handshake(broker: string, security: KafkaSecurity, timeoutMs: number): Promise<unknown> {
  const separator = broker.lastIndexOf(":");
  const host = broker.slice(0, separator);
  const port = Number(broker.slice(separator + 1));
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...security.tls,
    });
    let timer = setTimeout(() => done(null), timeoutMs);
    function done(outcome: unknown): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    }
    // With TLS 1.3 a server refuses the client certificate only after the client finished its side.
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(null), CLIENT_CERT_VERDICT_MS);
    });
    socket.once("error", (error) => done(error));
  });
}

/**
 * One TLS handshake with the bootstrap brokers before a Kafka client connects: kafkajs retries a
 * certificate failure like an outage, for many seconds; this turns it into a SecurityError at once.
 * Brokers that cannot be reached are left to the client's own retries. No-op without TLS.
 */
export async function checkKafkaTls(
  brokers: readonly string[],
  security: KafkaSecurity,
  timeoutMs = 5000,
): Promise<void> {
  if (security.tls === null) return;
  for (const broker of brokers) {
    const outcome = await handshake(broker, security, timeoutMs);
    if (outcome === null) return;
    const refused = securityErrorOf(outcome, "kafka", broker);
    if (refused !== null) throw refused;
  }
}
