import {
  encodeRecord,
  newEventId,
  nowMicros,
  isTracehouseError,
  RECORD_TYPES,
  RecordType,
  ValidationError,
} from "@tracehouse/schemas";
import type { EncodeOptions, Envelope, RecordInputOf } from "@tracehouse/schemas";
import { TraceContext } from "@tracehouse/context";
import type { ContextManager } from "@tracehouse/context";
import { resolveProducerConfig } from "./config.js";
import type { ProducerConfig, ProducerOptions } from "./config.js";
import { EmitResult } from "./emit-result.js";
import { Counters } from "./internal/counters.js";
import { KafkaTransport } from "./internal/KafkaTransport.js";
import { Pipeline } from "./internal/Pipeline.js";
import { RecordHeaders } from "./internal/RecordHeaders.js";
import { Sampler } from "./internal/Sampler.js";
import { Spool } from "./internal/Spool.js";
import { DropReason } from "./stats.js";
import type { ProducerStats } from "./stats.js";

const IDS_CHECKED: EncodeOptions = { idsChecked: true };

/** Envelope fields the producer fills from the trace context (or generates) unless given. */
export type ContextFieldKey =
  | "event_id"
  | "event_time"
  | "trace_id"
  | "span_id"
  | "parent_span_id"
  | "correlation_id"
  | "user_id"
  | "thread_id";

/**
 * What `emit` takes for a record type: the record's own fields, with the envelope fields
 * the trace context provides made optional (given values win).
 */
export type EmitFields<T extends RecordType> = Omit<RecordInputOf<T>, ContextFieldKey> &
  Partial<Pick<Envelope, ContextFieldKey>>;

export interface TimeoutOptions {
  /** Default: `closeTimeoutMs` of the producer's options. */
  readonly timeoutMs?: number;
}

type EnvelopeFields = Partial<Envelope> & Readonly<Record<string, unknown>>;

/**
 * The producer agents embed. `emit*` validates, samples and encodes synchronously, queues
 * the record and returns; a background loop sends batches to Kafka (idempotent, acks=all)
 * and spools to disk while Kafka is unavailable. Create it with {@link createProducer}.
 */
export class Producer {
  readonly config: ProducerConfig;
  readonly #pipeline: Pipeline;
  readonly #counters = new Counters();
  readonly #sampler: Sampler;
  readonly #contextManager: ContextManager;
  readonly #topics: Readonly<Record<RecordType, string>>;
  readonly #headers = new RecordHeaders();
  readonly #maxRecordBytes: number;
  readonly #spool: Spool | null;
  readonly #statsTimer: NodeJS.Timeout | null = null;

  constructor(options: ProducerOptions) {
    const config = resolveProducerConfig(options);
    this.config = config;
    this.#sampler = new Sampler(config.sampling);
    this.#contextManager = config.contextManager;
    this.#maxRecordBytes = config.maxRecordBytes;
    const topics = {} as Record<RecordType, string>;
    for (const type of RECORD_TYPES) {
      topics[type] = config.topics.topicFor(type);
    }
    this.#topics = topics;
    const transport = new KafkaTransport(config);
    this.#spool = config.spool === null ? null : Spool.open(config.spool, config.logger);
    this.#pipeline = new Pipeline(config, transport, this.#spool, this.#counters);
    const onStats = config.onStats;
    if (onStats !== null) {
      this.#statsTimer = setInterval(() => this.#report(onStats), config.statsIntervalMs);
      this.#statsTimer.unref();
    }
  }

  /** The spool directory in use, or null when the spool is disabled. */
  get spoolDir(): string | null {
    return this.#spool?.dir ?? null;
  }

  /**
   * Emits one record of `type`. Envelope fields not given come from `context`, else the
   * active context of the context manager, else a new trace. Never throws and never waits:
   * a record that does not match its schema (null fields, NaN or ±Infinity, a wrong type)
   * is rejected with a ValidationError that is logged, counted (`dropped.invalid`) and
   * returns `dropped`.
   */
  emit<T extends RecordType>(type: T, fields: EmitFields<T>, context?: TraceContext): EmitResult {
    const pipeline = this.#pipeline;
    if (pipeline.closing) {
      pipeline.drop(DropReason.Closed);
      return EmitResult.Dropped;
    }
    try {
      return this.#emit(type, fields, context);
    } catch (error) {
      const rejected = isTracehouseError(error)
        ? error
        : new ValidationError(String(type), [{ path: "", message: String(error) }], { cause: error });
      pipeline.drop(DropReason.Invalid, 1, rejected.message);
      return EmitResult.Dropped;
    }
  }

  #emit<T extends RecordType>(type: T, fields: EmitFields<T>, context: TraceContext | undefined): EmitResult {
    const pipeline = this.#pipeline;
    if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
      throw new ValidationError(String(type), [
        {
          path: "",
          message: `expected the record's fields, got ${fields === null ? "null" : typeof fields}`,
        },
      ]);
    }
    if (context !== undefined && !(context instanceof TraceContext)) {
      throw new ValidationError(String(type), [{ path: "", message: "context is not a TraceContext" }]);
    }
    const given = fields as EnvelopeFields;
    const ctx =
      context ??
      this.#contextManager.active() ??
      (given.trace_id === undefined ? TraceContext.create() : undefined);
    const traceId = given.trace_id ?? (ctx as TraceContext).traceId;
    if (!this.#sampler.keep(type, traceId, ctx === undefined || ctx.sampled, given)) {
      pipeline.drop(DropReason.Sampling);
      return EmitResult.SampledOut;
    }
    // one fast-path clone of the caller's fields, then the envelope over it (given values win);
    // a per-field copy loop or a spread into an object literal costs several times more in V8
    const record: Record<string, unknown> = Object.assign({}, given);
    record.event_id = given.event_id ?? newEventId();
    record.event_time = given.event_time ?? nowMicros();
    record.trace_id = traceId;
    record.span_id = given.span_id ?? ctx?.spanId;
    record.parent_span_id =
      given.parent_span_id !== undefined ? given.parent_span_id : (ctx?.parentSpanId ?? null);
    record.correlation_id =
      given.correlation_id !== undefined ? given.correlation_id : (ctx?.correlationId ?? null);
    record.user_id = given.user_id !== undefined ? given.user_id : (ctx?.userId ?? null);
    record.thread_id = given.thread_id !== undefined ? given.thread_id : (ctx?.threadId ?? null);
    // ids made here or taken from a TraceContext are known to be well formed
    const idsChecked =
      given.event_id === undefined &&
      given.trace_id === undefined &&
      given.span_id === undefined &&
      given.parent_span_id === undefined;
    const value = encodeRecord(
      type,
      record as unknown as RecordInputOf<T>,
      idsChecked ? IDS_CHECKED : undefined,
    );
    if (value.length > this.#maxRecordBytes) {
      pipeline.drop(DropReason.Oversize);
      return EmitResult.Dropped;
    }
    const { headers, bytes } = this.#headers.of(type, ctx, traceId, record.span_id as string);
    return pipeline.offer({
      topic: this.#topics[type],
      key: traceId,
      value,
      headers,
      size: traceId.length + value.length + bytes,
      partition: undefined,
    });
  }

  /**
   * {@link emit} with flow control: when the in-memory queue is more than half full, waits
   * until the sender has taken it below half before emitting. For bulk producers that
   * would rather slow down than spill to disk; agents should use `emit`.
   */
  async emitWithBackpressure<T extends RecordType>(
    type: T,
    fields: EmitFields<T>,
    context?: TraceContext,
  ): Promise<EmitResult> {
    if (!this.#pipeline.hasRoom) {
      const ctx = context ?? this.#contextManager.active();
      await this.#pipeline.whenRoom();
      return this.emit(type, fields, ctx);
    }
    return this.emit(type, fields, context);
  }

  emitExecution(fields: EmitFields<typeof RecordType.Execution>, context?: TraceContext): EmitResult {
    return this.emit(RecordType.Execution, fields, context);
  }

  emitEvent(fields: EmitFields<typeof RecordType.Event>, context?: TraceContext): EmitResult {
    return this.emit(RecordType.Event, fields, context);
  }

  emitMetrics(fields: EmitFields<typeof RecordType.Metrics>, context?: TraceContext): EmitResult {
    return this.emit(RecordType.Metrics, fields, context);
  }

  emitCorrelation(fields: EmitFields<typeof RecordType.Correlation>, context?: TraceContext): EmitResult {
    return this.emit(RecordType.Correlation, fields, context);
  }

  emitError(fields: EmitFields<typeof RecordType.Error>, context?: TraceContext): EmitResult {
    return this.emit(RecordType.Error, fields, context);
  }

  emitSpan(fields: EmitFields<typeof RecordType.Span>, context?: TraceContext): EmitResult {
    return this.emit(RecordType.Span, fields, context);
  }

  /**
   * Resolves once every record accepted before the call has been acknowledged by Kafka
   * (or dropped). Rejects with a TracehouseError of code TIMEOUT; unsent records stay queued or spooled.
   */
  flush(options: TimeoutOptions = {}): Promise<void> {
    return this.#pipeline.flush(options.timeoutMs ?? this.config.closeTimeoutMs);
  }

  /**
   * Stops accepting records, sends what it can within the timeout, writes the rest to the
   * spool, then disconnects. Idempotent; never rejects.
   */
  async close(options: TimeoutOptions = {}): Promise<void> {
    if (this.#statsTimer !== null) clearInterval(this.#statsTimer);
    await this.#pipeline.close(options.timeoutMs ?? this.config.closeTimeoutMs);
    if (this.config.onStats !== null) this.#report(this.config.onStats);
  }

  stats(): ProducerStats {
    const counters = this.#counters;
    const pipeline = this.#pipeline;
    return {
      state: pipeline.state,
      accepted: counters.accepted,
      sent: counters.sent,
      recovered: counters.recovered,
      spooled: counters.spooled,
      dropped: counters.drops(),
      queuedRecords: pipeline.queuedRecords,
      queuedBytes: pipeline.queuedBytes,
      spoolBytes: pipeline.spoolBytes,
      batchesSent: counters.batchesSent,
      sendErrors: counters.sendErrors,
      sendLatency: counters.latency(),
    };
  }

  #report(onStats: (stats: ProducerStats) => void): void {
    try {
      onStats(this.stats());
    } catch (error) {
      this.config.logger.warn("onStats callback threw", { error: String(error) });
    }
  }
}

/** Creates a producer. Throws ConfigError on invalid options, a TracehouseError (code SPOOL) when the spool directory is locked. */
export function createProducer(options: ProducerOptions): Producer {
  return new Producer(options);
}
