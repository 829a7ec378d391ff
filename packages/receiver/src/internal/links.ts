import { CorrelationRelationship, RecordType } from "@tracehouse/schemas";
import { executionIdOf, RecordSlot, spanEventId } from "./ids.js";
import type { Identity, MappedRecord } from "./map-spans.js";
import type { OtlpSpan } from "./model.js";
import type { Arrival, PendingLink, SpanDirectory } from "./SpanDirectory.js";

/**
 * The correlations that waited for `span`. An agent takes them as its own. A span that is not
 * an agent but whose id calls or sub-agents already used as their execution is linked
 * (FOLLOWS_FROM) to the agent above it, with the links that waited for it, once that agent is
 * known; until then they wait for the next unseen ancestor; with no agent above, none is written.
 */
export function releasedLinks(
  span: OtlpSpan,
  agent: boolean,
  agentName: string | null,
  identity: Identity,
  arrival: Arrival,
  directory: SpanDirectory,
): MappedRecord[] {
  if (agent)
    return arrival.pending.map((link) => correlation(span.traceId, span.spanId, agentName, link, identity));
  const carried = arrival.pending.filter((link) => link.relationship === CorrelationRelationship.FollowsFrom);
  if (arrival.referenced || carried.length < arrival.pending.length) {
    carried.push({
      childExecutionId: executionIdOf(span.traceId, span.spanId),
      childSpanId: span.spanId,
      childAgentName: span.name,
      startUs: span.startUs,
      relationship: CorrelationRelationship.FollowsFrom,
    });
  }
  const above = directory.resolve(span.traceId, span.parentSpanId);
  if (above.spanId === null) return [];
  if (above.known)
    return carried.map((link) =>
      correlation(span.traceId, above.spanId as string, above.agentName, link, identity),
    );
  for (const link of carried) directory.defer(span.traceId, above.spanId, link);
  return [];
}

export function correlation(
  traceId: string,
  parentSpanId: string,
  parentAgentName: string | null,
  child: PendingLink,
  identity: Identity,
): MappedRecord {
  const parentExecutionId = executionIdOf(traceId, parentSpanId);
  return {
    type: RecordType.Correlation,
    fields: {
      event_id: spanEventId(traceId, child.childSpanId, RecordSlot.Correlation, child.startUs),
      event_time: child.startUs,
      trace_id: traceId,
      span_id: parentSpanId,
      ...identity,
      execution_id: parentExecutionId,
      agent_name: parentAgentName,
      parent_execution_id: parentExecutionId,
      child_execution_id: child.childExecutionId,
      child_span_id: child.childSpanId,
      child_agent_name: child.childAgentName,
      relationship: child.relationship,
    },
  };
}
