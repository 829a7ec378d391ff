/** What became of one emitted record. */
export const EmitResult = {
  /** In the in-memory queue, to be sent in the background. */
  Queued: "queued",
  /** Written to the on-disk spool (queue full or Kafka unavailable), to be sent when possible. */
  Spooled: "spooled",
  /** Its trace is not sampled for this record type; counted, not an error. */
  SampledOut: "sampled_out",
  /** Not kept: queue or spool full, oversize, or the producer is closed; counted by reason. */
  Dropped: "dropped",
} as const;
export type EmitResult = (typeof EmitResult)[keyof typeof EmitResult];

/** True when the producer took the record (queued or spooled). */
export function isAccepted(result: EmitResult): boolean {
  return result === EmitResult.Queued || result === EmitResult.Spooled;
}
