export type Align = "left" | "right";

export interface Column {
  readonly header: string;
  /** Default: right for every column but the first. */
  readonly align?: Align;
}

/** Plain text columns, padded to the widest cell, headers underlined. */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  indent = "  ",
): string {
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    indent +
    columns
      .map((column, i) => {
        const cell = cells[i] ?? "";
        const width = widths[i] ?? 0;
        return (column.align ?? (i === 0 ? "left" : "right")) === "left"
          ? cell.padEnd(width)
          : cell.padStart(width);
      })
      .join("  ")
      .trimEnd();
  return [
    line(columns.map((column) => column.header)),
    line(widths.map((width) => "─".repeat(width))),
    ...rows.map(line),
  ].join("\n");
}

/** `0.42 ms`, `12.3 ms`, `480 ms`, `1.24 s`; `–` for none. */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 100) return `${value.toFixed(1)} ms`;
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(2)} s`;
}

export function count(value: number): string {
  return value.toLocaleString("en-US");
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? "–" : `${((100 * part) / whole).toFixed(1)}%`;
}

export function section(title: string): string {
  return `\n── ${title} ${"─".repeat(Math.max(3, 76 - title.length))}`;
}
