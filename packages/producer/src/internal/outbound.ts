/** One encoded record on its way to Kafka; also a kafkajs message (kafkajs reads key, value, headers). */
export interface Outbound {
  readonly topic: string;
  /** The trace id. */
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** Encoded size counted against the queue and batch bounds. */
  readonly size: number;
  /**
   * The partition it is sent to: set by the transport before each attempt (undefined, kafkajs's
   * partitioner chooses and the transport notes its choice here, while a topic's partition count is
   * unknown). Kafka messages read it too.
   */
  partition: number | undefined;
}

export function outboundSize(key: string, value: Buffer, headers: Readonly<Record<string, string>>): number {
  let size = key.length + value.length;
  for (const name in headers) size += name.length + (headers[name] as string).length;
  return size;
}
