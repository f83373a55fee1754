/**
 * The metrics page's charts as plain geometry for the template's SVG: no chart library, no script,
 * no style attribute (the CSP forbids inline styles; colours come from classes in app.css). Every
 * figure drawn is also in the weekly table beside the chart.
 */

/** The SVG's coordinate space; CSS scales it to the card's width. */
const WIDTH = 720;
const HEIGHT = 200;
const PAD = { left: 56, right: 8, top: 10, bottom: 24 };
/** Share of a week's slot its bars fill: the rest is the gap that tells weeks apart. */
const FILL = 0.72;
/** Week labels under the axis: about this many, so they never overlap. */
const X_LABELS = 8;

export interface ChartWeek {
  /** Short label under the axis ("Jan 8") and the full one for tooltips ("Jan 8, 2024"). */
  short: string;
  long: string;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
  className: string;
}

export interface ChartView {
  id: string;
  title: string;
  description: string;
  width: number;
  height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  yTicks: { y: number; label: string }[];
  xLabels: { x: number; label: string }[];
  /** One group per week: its shapes and the tooltip that says what they show. */
  weeks: { tooltip: string; rects: Rect[]; markers: { x1: number; x2: number; y: number }[] }[];
  legend: { label: string; className: string }[];
  empty: boolean;
}

const round = (value: number) => Math.round(value * 10) / 10;

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above `value` (at least `floor`). */
export function niceCeiling(value: number, floor = 1): number {
  if (!(value > floor)) return floor;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

/** A time axis: hours up to two days, whole-ish days beyond, so its labels read well. */
export function niceHoursCeiling(hours: number): number {
  return hours <= 48 ? niceCeiling(hours) : niceCeiling(hours / 24) * 24;
}

/** What every chart has: its names, the plot area, the axes; and the scales its bars are drawn on. */
function frame(
  options: { id: string; title: string; description: string; weeks: readonly ChartWeek[] },
  max: number,
  formatTick: (value: number) => string,
) {
  const { weeks } = options;
  const plot = { left: PAD.left, right: WIDTH - PAD.right, top: PAD.top, bottom: HEIGHT - PAD.bottom };
  const slot = (plot.right - plot.left) / Math.max(1, weeks.length);
  const y = (value: number) => round(plot.bottom - (value / max) * (plot.bottom - plot.top));
  const every = Math.max(1, Math.ceil(weeks.length / X_LABELS));
  return {
    head: {
      id: options.id,
      title: options.title,
      description: options.description,
      width: WIDTH,
      height: HEIGHT,
      plot,
      yTicks: [0, max / 2, max].map((value) => ({
        y: y(value),
        label: value === 0 ? "0" : formatTick(value),
      })),
      // Labelled from the newest week back, so the current week always has its label.
      xLabels: weeks
        .map((week, index) => ({ x: round(plot.left + slot * (index + 0.5)), label: week.short, index }))
        .filter(({ index }) => (weeks.length - 1 - index) % every === 0)
        .map(({ x, label }) => ({ x, label })),
    },
    plot,
    slot,
    y,
  };
}

export interface CountSeries {
  label: string;
  className: string;
  values: readonly number[];
}

/** Bars side by side per week, one per series (pull requests opened and merged). */
export function buildGroupedBarChart(options: {
  id: string;
  title: string;
  description: string;
  weeks: readonly ChartWeek[];
  series: readonly CountSeries[];
  tooltip: (index: number) => string;
}): ChartView {
  const { weeks, series } = options;
  const highest = Math.max(0, ...series.flatMap((s) => s.values));
  const max = niceCeiling(highest);
  const { head, plot, slot, y } = frame(options, max, (value) => String(round(value)));
  const barWidth = (slot * FILL) / Math.max(1, series.length);
  return {
    ...head,
    weeks: weeks.map((_, index) => ({
      tooltip: options.tooltip(index),
      rects: series.map((s, at) => {
        const top = y(s.values[index] ?? 0);
        return {
          x: round(plot.left + slot * index + (slot * (1 - FILL)) / 2 + barWidth * at),
          y: top,
          width: round(Math.max(barWidth, 0.5)),
          height: round(plot.bottom - top),
          className: s.className,
        };
      }),
      markers: [],
    })),
    legend: series.map((s) => ({ label: s.label, className: s.className })),
    empty: highest === 0,
  };
}

export interface HoursSeries {
  label: string;
  className: string;
  values: readonly (number | null)[];
}

/**
 * Stacked bars per week (the cycle-time phases), with a marker at another value of the week (the
 * median cycle time): medians of phases do not add up to the median of their sum, so the marker
 * shows where the real median lies.
 */
export function buildStackedHoursChart(options: {
  id: string;
  title: string;
  description: string;
  weeks: readonly ChartWeek[];
  stack: readonly HoursSeries[];
  marker: HoursSeries;
  formatHours: (hours: number) => string;
  tooltip: (index: number) => string;
}): ChartView {
  const { weeks, stack, marker } = options;
  const totals = weeks.map((_, index) => stack.reduce((sum, s) => sum + (s.values[index] ?? 0), 0));
  const highest = Math.max(0, ...totals, ...marker.values.map((value) => value ?? 0));
  const max = niceHoursCeiling(highest);
  const { head, plot, slot, y } = frame(options, max, options.formatHours);
  const barWidth = slot * FILL;
  return {
    ...head,
    weeks: weeks.map((_, index) => {
      const x = round(plot.left + slot * index + (slot * (1 - FILL)) / 2);
      let base = 0;
      const rects: Rect[] = [];
      for (const s of stack) {
        const value = s.values[index] ?? 0;
        if (value <= 0) continue;
        const top = y(base + value);
        rects.push({
          x,
          y: top,
          width: round(Math.max(barWidth, 0.5)),
          height: round(y(base) - top),
          className: s.className,
        });
        base += value;
      }
      const mark = marker.values[index];
      return {
        tooltip: options.tooltip(index),
        rects,
        markers:
          mark === null || mark === undefined
            ? []
            : [{ x1: round(x - 1), x2: round(x + Math.max(barWidth, 0.5) + 1), y: y(mark) }],
      };
    }),
    legend: [
      ...stack.map((s) => ({ label: s.label, className: s.className })),
      { label: marker.label, className: marker.className },
    ],
    empty: highest === 0,
  };
}

/**
 * Bars side by side per week, one per series, of durations (a team's median cycle time beside the
 * organization's): a week without a value has no bar for it, not a bar of zero.
 */
export function buildGroupedHoursChart(options: {
  id: string;
  title: string;
  description: string;
  weeks: readonly ChartWeek[];
  series: readonly HoursSeries[];
  formatHours: (hours: number) => string;
  tooltip: (index: number) => string;
}): ChartView {
  const { weeks, series } = options;
  const highest = Math.max(0, ...series.flatMap((s) => s.values.map((value) => value ?? 0)));
  const max = niceHoursCeiling(highest);
  const { head, plot, slot, y } = frame(options, max, options.formatHours);
  const barWidth = (slot * FILL) / Math.max(1, series.length);
  return {
    ...head,
    weeks: weeks.map((_, index) => ({
      tooltip: options.tooltip(index),
      rects: series.flatMap((s, at) => {
        const value = s.values[index];
        if (value === null || value === undefined) return [];
        const top = y(value);
        return [
          {
            x: round(plot.left + slot * index + (slot * (1 - FILL)) / 2 + barWidth * at),
            y: top,
            width: round(Math.max(barWidth, 0.5)),
            height: round(plot.bottom - top),
            className: s.className,
          },
        ];
      }),
      markers: [],
    })),
    legend: series.map((s) => ({ label: s.label, className: s.className })),
    empty: highest === 0,
  };
}
