import type { RecordTable, Sink } from "@tracehouse/clickhouse";
import { TraceContext } from "@tracehouse/context";
import { DecodeError, DecodeErrorReason, decodeRecord } from "@tracehouse/schemas";
import type { DecodedRecord, Logger } from "@tracehouse/schemas";
import { DeadLetterReason } from "../../dead-letter.js";
import {
  RowMappingError,
  TABLE_OF_RECORD_TYPE,
  eventTimeBounds,
  lacksIdentity,
  recordToRow,
} from "../../rows.js";
import type { EventTimeBounds, MappedRow } from "../../rows.js";
import type { SourceMessage } from "../source.js";
import { readTableTtls } from "../table-ttl.js";

/** Why a message cannot become a row: the dead letter's reason, error and (for invalid rows) field. */
export interface Unprojectable {
  readonly reason: DeadLetterReason;
  readonly error: string;
  readonly field?: string;
}

export type Projection =
  { readonly ok: true; readonly mapped: MappedRow } | ({ readonly ok: false } & Unprojectable);

const EMPTY = Buffer.alloc(0);
/** The TTL window moves: bounds are recomputed this often. */
const BOUNDS_TTL_MS = 1000;

/**
 * The decode → project step: a consumed message becomes its table's row, or the reason it cannot
 * (a decode failure, or a value the table would not store and keep). Never throws.
 */
export class Projector {
  #tableTtls = new Map<RecordTable, number | null>();
  readonly #bounds = new Map<RecordTable, EventTimeBounds>();
  #boundsAt = 0;

  /** Reads what the tables keep (their TTL), so rows ClickHouse would drop are refused instead. */
  async prepare(sink: Sink, logger: Logger): Promise<void> {
    this.#tableTtls = await readTableTtls(sink, logger);
    this.#bounds.clear();
  }

  /** `decoded`: the record already decoded (e.g. once its writer schema was resolved). */
  project(message: SourceMessage, now: number = Date.now(), known?: DecodedRecord): Projection {
    try {
      const decoded = known ?? decodeRecord(message.value ?? EMPTY);
      const context = lacksIdentity(decoded) ? TraceContext.fromHeaders(message.headers) : undefined;
      const bounds = this.boundsOf(TABLE_OF_RECORD_TYPE[decoded.type], now);
      return { ok: true, mapped: recordToRow(decoded, context, bounds) };
    } catch (error) {
      return { ok: false, ...unprojectable(error) };
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

function unprojectable(error: unknown): Unprojectable {
  if (error instanceof DecodeError) return { reason: error.reason, error: error.message };
  if (error instanceof RowMappingError)
    return { reason: DeadLetterReason.InvalidRow, error: error.message, field: error.column };
  return { reason: DecodeErrorReason.Corrupt, error: error instanceof Error ? error.message : String(error) };
}
