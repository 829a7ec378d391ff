import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  readonly label: string;
  readonly values: readonly (number | null)[];
}

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

/** A time-series chart (uPlot) over epoch seconds. */
export function Chart(props: {
  title: string;
  times: readonly number[];
  series: readonly Series[];
  /** The x range in epoch seconds (the chosen time window). */
  range: readonly [number, number];
  unit?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    const data = [props.times, ...props.series.map((s) => s.values)] as unknown as uPlot.AlignedData;
    const plot = new uPlot(
      {
        title: props.title,
        width: Math.max(300, element.clientWidth),
        height: 200,
        series: [
          {},
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length],
            width: 2,
            points: { show: props.times.length < 30 },
            value: (_u: uPlot, v: number | null) =>
              v === null ? "–" : `${+v.toFixed(4)}${props.unit ?? ""}`,
          })),
        ],
        axes: [{}, { size: 60 }],
        scales: { x: { time: true, range: () => [props.range[0], props.range[1]] } },
        legend: { live: false },
      },
      data,
      element,
    );
    return () => plot.destroy();
  }, [props.title, props.times, props.series, props.unit, props.range[0], props.range[1]]);
  return <div class="chart" ref={box} />;
}
