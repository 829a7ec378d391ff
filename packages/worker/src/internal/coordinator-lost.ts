/**
 * Errors by which a commit tells that the group's coordinator moved or is unavailable (Kafka error
 * codes 14, 15, 16 as kafkajs names them). kafkajs 2.x commits through the coordinator its offset
 * manager was given when the consumer last synced with its group, and a commit error never changes
 * it. Its runner rejoins on a heartbeat's NOT_COORDINATOR, but a join that fails on the new node
 * ("the coordinator is loading") has already moved the heartbeats there: they succeed, no rejoin
 * follows, and every commit still goes to the old node.
 */
const COORDINATOR_ERRORS: ReadonlySet<string> = new Set([
  "GROUP_LOAD_IN_PROGRESS",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR_FOR_GROUP",
]);

/**
 * True when a commit was refused because its coordinator moved or is not ready, or because the node
 * it commits to is gone from the cluster's metadata (KafkaJSBrokerNotFound: another broker answered
 * a metadata request without it, so a new join finds the group's coordinator there): kafkajs must
 * find the group's coordinator again before a commit can succeed. Follows the error's causes
 * (kafkajs wraps the last failure of its own retries). A coordinator not reached at all (connection
 * refused or closed) is not such an answer: while no broker answers, a restart of the consumer
 * would fail and leave it stopped; kafkajs's own restart rides that out, and once the old node
 * answers again it says NOT_COORDINATOR.
 */
export function isCoordinatorLost(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; depth++) {
    if (cause.name === "KafkaJSBrokerNotFound") return true;
    const { type } = cause as { type?: unknown };
    if (typeof type === "string" && COORDINATOR_ERRORS.has(type)) return true;
    cause = cause.cause;
  }
  return false;
}
