import {
  RowMappingError,
  TABLE_OF_RECORD_TYPE,
  eventTimeBounds,
  lacksIdentity,
  toRow,
} from "@tracehouse/clickhouse";
import type { EventTimeBounds, MappedRow, RecordTable, Sink } from "@tracehouse/clickhouse";
import { TraceContext } from "@tracehouse/context";
import type { DecodedRecord, Logger } from "@tracehouse/schemas";
import type { IHeaders } from "kafkajs";
import { DeadLetterReason } from "../../dead-letter.js";
import type { SourceRef } from "../source.js";
import { readTableTtls } from "../table-ttl.js";
import type { BatchStep } from "./batch.js";
import { messageOf } from "./step.js";

/** Why a message cannot become a row: the dead letter's reason, error and (for invalid rows) field. */
export interface Unprojectable {
  readonly reason: DeadLetterReason;
  readonly error: string;
  readonly field?: string;
}

export type Projection =
  { readonly ok: true; readonly mapped: MappedRow } | ({ readonly ok: false } & Unprojectable);

/** The TTL window moves: bounds are recomputed this often. */
const BOUNDS_TTL_MS = 1000;

/**
 * The project step: a decoded record becomes its table's row, or the reason it cannot (a value the
 * table would not store and keep); rows of the selected tables go on to the batch step, the others
 * are done (skipped). Never throws.
 */
export class Projector {
  #tableTtls = new Map<RecordTable, number | null>();
  readonly #bounds = new Map<RecordTable, EventTimeBounds>();
  #boundsAt = 0;
  /** Records of tables not selected, since the start. */
  skipped = 0;

  constructor(
    private readonly selected: ReadonlySet<string> = new Set(Object.values(TABLE_OF_RECORD_TYPE)),
    private readonly batch: BatchStep | null = null,
  ) {}

  /** Reads what the tables keep (their TTL), so rows ClickHouse would drop are refused instead. */
  async prepare(sink: Sink, logger: Logger): Promise<void> {
    this.#tableTtls = await readTableTtls(sink, logger);
    this.#bounds.clear();
  }

  /**
   * Projects a record and hands its row to the batch step (`bytes`: what its message weighs); returns
   * why it cannot become a row (to be dead-lettered), else null.
   */
  submit(
    record: DecodedRecord,
    headers: IHeaders | undefined,
    source: SourceRef,
    bytes: number,
    now: number,
  ): Unprojectable | null {
    const projection = this.project(record, headers, now);
    if (!projection.ok) return projection;
    const { table, row } = projection.mapped;
    if (!this.selected.has(table)) {
      source.offsets.markDone(source.offset);
      this.skipped++;
      return null;
    }
    this.batch?.add(table, row, source, bytes);
    return null;
  }

  /** The row of a record; identity the record lacks comes from the headers' baggage. */
  project(record: DecodedRecord, headers: IHeaders | undefined, now: number = Date.now()): Projection {
    try {
      const context = lacksIdentity(record) ? TraceContext.fromHeaders(headers) : undefined;
      const bounds = this.boundsOf(TABLE_OF_RECORD_TYPE[record.type], now);
      return { ok: true, mapped: toRow(record, context, bounds) };
    } catch (error) {
      if (error instanceof RowMappingError)
        return { ok: false, reason: DeadLetterReason.InvalidRow, error: error.message, field: error.column };
      return { ok: false, reason: DeadLetterReason.Corrupt, error: messageOf(error) };
    }
  }

  /** The event times a table stores and keeps at `now`. */
  boundsOf(table: RecordTable, now: number): EventTimeBounds {
    if (now - this.#boundsAt > BOUNDS_TTL_MS) {
      this.#bounds.clear();
      this.#boundsAt = now;
    }
    let bounds = this.#bounds.get(table);
    if (bounds === undefined) {
      bounds = eventTimeBounds(this.#tableTtls.get(table) ?? null, now);
      this.#bounds.set(table, bounds);
    }
    return bounds;
  }
}
