import { ConfigError } from "@tracehouse/schemas";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CLUSTER_NAME = /^[A-Za-z0-9_.{}-]+$/;

/** Identifiers are interpolated into SQL, so only plain names are accepted. */
export function assertIdentifier(value: string, what: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new ConfigError(`${what} must match ${IDENTIFIER.source}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function assertClusterName(value: string): string {
  if (!CLUSTER_NAME.test(value)) {
    throw new ConfigError(`cluster must match ${CLUSTER_NAME.source}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `table` or `db.table` → `db.table`, with the sink's database for an unqualified name. */
export function qualifyTable(database: string, table: string): string {
  const parts = table.split(".");
  if (parts.length === 1) return `${database}.${assertIdentifier(table, "table")}`;
  if (parts.length === 2) {
    return `${assertIdentifier(parts[0] ?? "", "database")}.${assertIdentifier(parts[1] ?? "", "table")}`;
  }
  throw new ConfigError(`table must be "name" or "database.name", got ${JSON.stringify(table)}`);
}
