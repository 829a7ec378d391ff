export {
  useKafka,
  testKafka,
  testTopics,
  localKafkaControl,
  waitForLeaders,
  readTopics,
  readTopicFor,
  consumeUntil,
} from "./kafka.js";
export type { KafkaService, KafkaSource, TestTopics, LocalKafkaControl, ReadMessage } from "./kafka.js";
export { useClickHouse, useClickHouseServer, embeddedDataDir } from "./clickhouse.js";
export type { ClickHouseService, ClickHouseSource } from "./clickhouse.js";
export { uniqueName } from "./names.js";
export { startKafkaCluster, stopKafkaCluster, CLUSTER_NODES } from "./kafka-cluster.js";
export type { KafkaCluster, ClusterNode } from "./kafka-cluster.js";
export { useSecureKafka } from "./secure-kafka.js";
export type { SecureKafka } from "./secure-kafka.js";
export { useJaeger, fetchJaegerTrace } from "./jaeger.js";
export type { JaegerService, JaegerSource, JaegerSpan, JaegerTrace } from "./jaeger.js";
export { threadGroupsCpuNs, threadGroupsPerRecord } from "./thread-cpu.js";
