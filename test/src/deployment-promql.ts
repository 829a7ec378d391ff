/** What a PromQL expression refers to: metric names and label names (in `by`/`without` and matchers). */
export interface PromQlReferences {
  readonly metrics: readonly string[];
  readonly labels: readonly string[];
}

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "and",
  "or",
  "unless",
  "inf",
  "nan",
]);

/** Functions and aggregations of PromQL used by the tracehouse dashboards and rules. */
const FUNCTIONS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "count",
  "topk",
  "bottomk",
  "quantile",
  "rate",
  "irate",
  "increase",
  "delta",
  "deriv",
  "histogram_quantile",
  "absent",
  "absent_over_time",
  "max_over_time",
  "min_over_time",
  "avg_over_time",
  "clamp_min",
  "clamp_max",
  "vector",
  "scalar",
  "time",
]);

export function promQlReferences(expr: string): PromQlReferences {
  const labels = new Set<string>();
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  rest = rest.replace(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g, (_match, list: string) => {
    for (const label of list.split(",")) if (label.trim() !== "") labels.add(label.trim());
    return " ";
  });
  rest = rest.replace(/\{([^}]*)\}/g, (_match, matchers: string) => {
    for (const matcher of matchers.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) labels.add(matcher[1]!);
    return " ";
  });
  rest = rest.replace(/\[[^\]]*\]/g, " ").replace(/\boffset\s+\w+/g, " ");
  const metrics = new Set<string>();
  for (const match of rest.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const word = match[0];
    if (KEYWORDS.has(word.toLowerCase())) continue;
    const next = rest.slice(match.index + word.length).trimStart();
    if (FUNCTIONS.has(word) && (next.startsWith("(") || /^(?:by|without)\b/.test(next))) continue;
    if (/^\d/.test(word)) continue;
    metrics.add(word);
  }
  return { metrics: [...metrics], labels: [...labels] };
}

/** The registered metric a series name belongs to: histogram series carry _bucket, _sum and _count. */
export function baseMetricName(series: string, registered: ReadonlySet<string>): string | null {
  if (registered.has(series)) return series;
  const base = series.replace(/_(?:bucket|sum|count)$/, "");
  return base !== series && registered.has(base) ? base : null;
}
