/** One encoded record on its way to Kafka; also a kafkajs message (kafkajs reads key, value, headers). */
export interface Outbound {
  readonly topic: string;
  /** The trace id. */
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** Encoded size counted against the queue and batch bounds. */
  readonly size: number;
}

export function outboundSize(key: string, value: Buffer, headers: Readonly<Record<string, string>>): number {
  let size = key.length + value.length;
  for (const name in headers) size += name.length + (headers[name] as string).length;
  return size;
}
