/**
 * A producer in a process of its own: sends the messages given (JSON on argv: brokers, topic,
 * messages with base64 key, value and headers) in one lz4-compressed batch, with lz4 registered
 * here only, as an agent process that chose lz4 does.
 */
import { ensureLz4Codec } from "@tracehouse/producer";
import kafkajs from "kafkajs";

interface Wire {
  readonly key: string | null;
  readonly value: string;
  readonly headers: Record<string, string>;
}

const { brokers, topic, messages } = JSON.parse(process.argv[2]!) as {
  brokers: string[];
  topic: string;
  messages: Wire[];
};
ensureLz4Codec();
const producer = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).producer();
await producer.connect();
await producer.send({
  topic,
  acks: -1,
  compression: kafkajs.CompressionTypes.LZ4,
  messages: messages.map((message) => ({
    key: message.key === null ? null : Buffer.from(message.key, "base64"),
    value: Buffer.from(message.value, "base64"),
    headers: Object.fromEntries(
      Object.entries(message.headers).map(([name, value]) => [name, Buffer.from(value, "base64")]),
    ),
  })),
});
await producer.disconnect();
