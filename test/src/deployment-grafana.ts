/** The ClickHouse data source plugin's macros and Grafana variables, expanded the way the plugin does, so panel SQL can run. */
export interface MacroContext {
  /** Dashboard range, epoch seconds. */
  readonly fromSeconds: number;
  readonly toSeconds: number;
  readonly intervalSeconds: number;
  /** Variable values; a list is a multi-value selection. */
  readonly variables: Readonly<Record<string, string | readonly string[]>>;
  /** Variables whose selection is "All". */
  readonly all?: readonly string[];
}

/** Index of the parenthesis closing the one at `open`. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = open; i < text.length; i++) {
    const char = text[i];
    if (quote !== null) {
      if (char === "\\") i++;
      else if (char === quote) quote = null;
      continue;
    }
    if (char === "'" || char === "`" || char === '"') quote = char;
    else if (char === "(") depth++;
    else if (char === ")" && --depth === 0) return i;
  }
  throw new Error(`unbalanced parenthesis at ${open} in ${text}`);
}

function splitLastTopLevelComma(args: string): [string, string] {
  let depth = 0;
  let last = -1;
  for (let i = 0; i < args.length; i++) {
    const char = args[i];
    if (char === "(") depth++;
    else if (char === ")") depth--;
    else if (char === "," && depth === 0) last = i;
  }
  if (last < 0) throw new Error(`expected two arguments: ${args}`);
  return [args.slice(0, last).trim(), args.slice(last + 1).trim()];
}

function replaceFunctionMacro(sql: string, name: string, expand: (args: string) => string): string {
  let out = sql;
  for (let at = out.indexOf(`${name}(`); at >= 0; at = out.indexOf(`${name}(`)) {
    const open = at + name.length;
    const close = closingParen(out, open);
    out = out.slice(0, at) + expand(out.slice(open + 1, close)) + out.slice(close + 1);
  }
  return out;
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** SQL with every macro and variable replaced; throws on a macro or variable it does not know. */
export function expandClickHouseSql(sql: string, context: MacroContext): string {
  const from = `toDateTime(${context.fromSeconds})`;
  const to = `toDateTime(${context.toSeconds})`;
  const all = new Set(context.all ?? []);
  let out = replaceFunctionMacro(sql, "$__conditionalAll", (args) => {
    const [condition, variable] = splitLastTopLevelComma(args);
    return all.has(variable.replace(/^\$\{?|\}$/g, "")) ? "1=1" : condition;
  });
  out = replaceFunctionMacro(out, "$__timeFilter", (column) => `${column} >= ${from} AND ${column} <= ${to}`);
  out = replaceFunctionMacro(
    out,
    "$__timeInterval",
    (column) => `toStartOfInterval(toDateTime(${column}), INTERVAL ${context.intervalSeconds} second)`,
  );
  out = out
    .replaceAll("$__fromTime", from)
    .replaceAll("$__toTime", to)
    .replaceAll("$__interval_s", String(context.intervalSeconds));
  out = out.replace(
    /\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g,
    (match, braced?: string, format?: string, bare?: string) => {
      const name = braced ?? bare ?? "";
      const value = context.variables[name];
      if (value === undefined) throw new Error(`unknown variable ${match} in ${sql}`);
      const values = typeof value === "string" ? [value] : value;
      if (format === "singlequote") return values.map(quote).join(",");
      if (format !== undefined) throw new Error(`unsupported variable format ${match}`);
      return values.join(",");
    },
  );
  if (out.includes("$__")) throw new Error(`unexpanded macro in ${out}`);
  return out;
}

/** Names after FROM / JOIN, with the database qualifier dropped (`${database}.x` → `x`); subqueries skipped. */
export function referencedTables(sql: string): string[] {
  const names = new Set<string>();
  for (const match of sql.matchAll(/\b(?:FROM|JOIN)\s+((?:\$\{\w+\}|\w+)\.)?(\w+)/gi)) {
    names.add(match[2]!);
  }
  return [...names];
}
