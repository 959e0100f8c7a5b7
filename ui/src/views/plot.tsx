/**
 * One streaming plot: uPlot (a canvas time-series plot made for this, ~50 KB minified) drawn from a
 * {@link Series}, with its latest values written out beside it (readable without seeing the colours,
 * and by a screen reader). The canvas is redrawn when the store says the series' channel changed.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Series } from '../series.js';
import type { Channel, Store } from '../store.js';
import { fmt, useChannelsWhileSeen } from './use-store.js';

/** Line colours on the dark background, each with contrast ≥ 4.5:1 against it. */
export const COLORS = ['#ff6b6b', '#ffc247', '#5cb8ff', '#9be15d', '#e599f7', '#63e6be'];
const HEIGHT = 150;
const AXIS = { stroke: '#c9d1d9', grid: { stroke: '#2d333b', width: 1 }, ticks: { stroke: '#2d333b' } };
/** Y labels short enough for the axis: 1.5k, 120k, 2M. */
const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
/** What a plot draws until its series has two points: no x, and no y for each line. */
const empty = (series: Series): uPlot.AlignedData => [[], ...series.labels.map(() => [])];
/** The narrowest time span a plot shows, s. */
const MIN_SPAN_S = 60;

/** An x label: the clock time, `09:01:30` (uPlot's own adds a date line that crowds a narrow plot). */
function clockLabel(seconds: number): string {
  return new Date(seconds * 1000).toTimeString().slice(0, 8);
}

/** A y label; on a log axis the decades only (its ticks between them would crowd the labels). */
function label(v: number, log: boolean): string {
  if (log && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) > 1e-9) return '';
  return compact.format(v);
}

interface PlotProps {
  store: Store;
  channel: Channel;
  title: string;
  series: Series;
  /** Decimals of the values written out. */
  digits?: number;
  /** A logarithmic y axis (latencies). */
  log?: boolean;
  id: string;
}

function options(props: PlotProps, width: number): uPlot.Options {
  return {
    width,
    height: HEIGHT,
    legend: { show: false },
    // No drag-zoom: on a phone a drag must scroll the page.
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: {
      // At least a minute wide: with its first points only, the time axis would otherwise span years.
      x: {
        time: true,
        range: (_u, min, max) => (max - min < MIN_SPAN_S ? [max - MIN_SPAN_S, max] : [min, max]),
      },
      y: props.log ? { distr: 3 } : { range: (_u, min, max) => [0, Math.max(1, max, min)] },
    },
    axes: [
      { ...AXIS, space: 70, values: (_u, splits) => splits.map(clockLabel) },
      { ...AXIS, size: 48, values: (_u, splits) => splits.map((v) => label(v, props.log === true)) },
    ],
    series: [
      {},
      ...props.series.labels.map((label, i) => ({
        label,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        spanGaps: false,
      })),
    ],
  };
}

export function Plot(props: PlotProps) {
  const { store, channel, series, title, digits = 0 } = props;
  const figure = useRef<HTMLElement>(null);
  useChannelsWhileSeen(store, figure, channel);
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const u = new uPlot(options(props, el.clientWidth || 300), empty(series), el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: el.clientWidth || 300, height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [series]);

  useEffect(() => {
    // One point makes no line, and uPlot would stretch the time axis over years around it.
    plot.current?.setData(
      series.columns[0].length < 2 ? empty(series) : (series.columns as uPlot.AlignedData),
    );
    if (box.current !== null) box.current.dataset.points = String(series.pushed);
  });

  const summary = series.labels.map((l, i) => `${l} ${fmt(series.last(i), digits)}`).join(', ');
  return (
    <figure class="plot" id={props.id} ref={figure}>
      <figcaption>
        <span class="plot-title">{title}</span>
        <span class="readout">
          {series.labels.map((label, i) => (
            <span key={label} class="value">
              <i class="swatch" style={{ background: COLORS[i % COLORS.length] }} aria-hidden="true" />
              {label} <b>{fmt(series.last(i), digits)}</b>
            </span>
          ))}
        </span>
      </figcaption>
      <div ref={box} class="canvas" role="img" aria-label={`${title}: ${summary}`} data-points="0" />
    </figure>
  );
}
