import { randomBytes } from "node:crypto";

let counter = 0;

/**
 * A name no other test, process or earlier run uses: safe for Kafka topics,
 * consumer groups and ClickHouse databases/tables (letters, digits, underscore).
 */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}_${randomBytes(3).toString("hex")}`.replace(
    /[^A-Za-z0-9_]/g,
    "_",
  );
}
