import { useId } from 'react';

/** Quantiles of one series (lesionMetricsSummary's Distribution); null when it has no values. */
export interface Quantiles {
  mean?: number | null;
  p25?: number | null;
  p50?: number | null;
  p75?: number | null;
  p95?: number | null;
}

export interface ChartRow {
  /** model@version */
  label: string;
  count: number;
  q: Quantiles;
}

interface Props {
  title: string;
  /** What the chart shows, read by screen readers (SVG <desc>). */
  description: string;
  unit: string;
  rows: ChartRow[];
  /** Fixed axis maximum (circularity: 1); default: a round number above the largest p95. */
  max?: number;
  digits?: number;
}

const WIDTH = 900;
const LABEL_W = 230;
const RIGHT = 24;
const ROW_H = 36;
const AXIS_H = 34;

/** 1, 2 or 5 times a power of ten, at or above `v`: axis ends that read well. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

const fmt = (v: number | null | undefined, digits: number) => (v == null ? '—' : v.toFixed(digits));

/**
 * A box chart per model version, drawn by hand: the box spans p25..p75, a bar marks the median, a
 * whisker runs to p95 and a dot marks the mean. role="img" with <title>/<desc>, and the same numbers
 * in a table beside it for anyone who cannot read the picture.
 */
export function DistributionChart({ title, description, unit, rows, max, digits = 2 }: Props) {
  const id = useId();
  const top = max ?? niceCeil(Math.max(0, ...rows.map((r) => r.q.p95 ?? r.q.p75 ?? 0)));
  const plotW = WIDTH - LABEL_W - RIGHT;
  const x = (v: number) => LABEL_W + (Math.min(Math.max(v, 0), top) / top) * plotW;
  const height = rows.length * ROW_H + AXIS_H;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * top);
  return (
    <figure className="chart">
      <figcaption id={`${id}-cap`}>{title}</figcaption>
      {rows.length === 0 ? (
        <p className="chart-empty">No segmentations match the filters.</p>
      ) : (
        <svg
          className="chart-svg"
          viewBox={`0 0 ${WIDTH} ${height}`}
          role="img"
          aria-labelledby={`${id}-title ${id}-desc`}
          preserveAspectRatio="xMinYMin meet"
        >
          <title id={`${id}-title`}>{title}</title>
          <desc id={`${id}-desc`}>
            {description}{' '}
            {rows
              .map(
                (r) =>
                  `${r.label}: median ${fmt(r.q.p50, digits)}, p25 ${fmt(r.q.p25, digits)} to p75 ${fmt(r.q.p75, digits)}, p95 ${fmt(r.q.p95, digits)} ${unit}, ${r.count} segmentations.`,
              )
              .join(' ')}
          </desc>
          {ticks.map((t) => (
            <g key={t} className="chart-tick">
              <line x1={x(t)} x2={x(t)} y1={0} y2={rows.length * ROW_H} />
              <text x={x(t)} y={rows.length * ROW_H + 18} textAnchor="middle">
                {t.toFixed(top < 2 ? 2 : top < 20 ? 1 : 0)}
              </text>
            </g>
          ))}
          <text className="chart-unit" x={WIDTH - RIGHT} y={height - 2} textAnchor="end">
            {unit}
          </text>
          {rows.map((r, i) => {
            const cy = i * ROW_H + ROW_H / 2;
            const { p25, p50, p75, p95, mean } = r.q;
            return (
              <g key={r.label} className="chart-row">
                <text className="chart-label" x={LABEL_W - 8} y={cy + 4} textAnchor="end">
                  {r.label.length > 32 ? `${r.label.slice(0, 31)}…` : r.label}
                </text>
                {p75 != null && p95 != null && (
                  <line className="chart-whisker" x1={x(p75)} x2={x(p95)} y1={cy} y2={cy} />
                )}
                {p95 != null && <line className="chart-whisker" x1={x(p95)} x2={x(p95)} y1={cy - 6} y2={cy + 6} />}
                {p25 != null && p75 != null && (
                  <rect className="chart-box" x={x(p25)} y={cy - 9} width={Math.max(1, x(p75) - x(p25))} height={18} />
                )}
                {p50 != null && <line className="chart-median" x1={x(p50)} x2={x(p50)} y1={cy - 11} y2={cy + 11} />}
                {mean != null && <circle className="chart-mean" cx={x(mean)} cy={cy} r={3.5} />}
              </g>
            );
          })}
        </svg>
      )}
      <p className="chart-legend">
        Box: 25th to 75th percentile · bar: median · whisker: to the 95th percentile · dot: mean.
      </p>
      <details className="chart-data">
        <summary>Data table: {title}</summary>
        <table>
          <caption>
            {title} ({unit})
          </caption>
          <thead>
            <tr>
              <th scope="col">Model version</th>
              <th scope="col">Segmentations</th>
              <th scope="col">Mean</th>
              <th scope="col">p25</th>
              <th scope="col">Median</th>
              <th scope="col">p75</th>
              <th scope="col">p95</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.label}>
                <th scope="row">{r.label}</th>
                <td>{r.count}</td>
                <td>{fmt(r.q.mean, digits)}</td>
                <td>{fmt(r.q.p25, digits)}</td>
                <td>{fmt(r.q.p50, digits)}</td>
                <td>{fmt(r.q.p75, digits)}</td>
                <td>{fmt(r.q.p95, digits)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
