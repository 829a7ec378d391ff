export { useKafka, testKafka, testTopics, localKafkaControl } from "./kafka.js";
export type { KafkaService, KafkaSource, TestTopics, LocalKafkaControl } from "./kafka.js";
export { useClickHouse, useClickHouseServer, embeddedDataDir } from "./clickhouse.js";
export type { ClickHouseService, ClickHouseSource } from "./clickhouse.js";
export { uniqueName } from "./names.js";
export { useJaeger, fetchJaegerTrace } from "./jaeger.js";
export type { JaegerService, JaegerSource, JaegerSpan, JaegerTrace } from "./jaeger.js";
