// The de-identified rows: hashed subject and image ids (stable within one export), the latest prediction, severity
// and measurements, newest first, a page at a time.
import type { ReactNode } from 'react';
import { Table, formatDateTime, formatPercent } from '../../ui';
import type { ResearchLesionMetricsQuery } from '../../gql/graphql';
import { markIndeterminate } from '../clinical/prediction-flags';

type Row = NonNullable<ResearchLesionMetricsQuery['lesionMetrics']>['edges'][number]['node'];

const short = (id: string) => (id.length > 10 ? `${id.slice(0, 10)}…` : id);
const num = (v: number | null | undefined, digits: number) => (v == null ? '—' : v.toFixed(digits));

const COLUMNS = [
  { header: 'Created', cell: (r: Row) => formatDateTime(r.createdAt) },
  {
    header: 'Subject / image',
    cell: (r: Row) => (
      <>
        <code title={r.subject}>{short(r.subject)}</code>
        <span className="research-sub">
          <code title={r.image}>{short(r.image)}</code>
        </span>
      </>
    ),
  },
  {
    header: 'Prediction',
    // Marked as the clinical pages mark it: an abstaining prediction's label is not a call.
    cell: (r: Row) =>
      r.label
        ? markIndeterminate(r, `${r.label}${r.confidence != null ? ` (${formatPercent(r.confidence)})` : ''}`)
        : '—',
  },
  { header: 'Severity', cell: (r: Row) => r.severity.toLowerCase() },
  { header: 'Area %', cell: (r: Row) => num(r.metrics.areaPercent, 2), numeric: true },
  { header: 'Circularity', cell: (r: Row) => num(r.metrics.circularity, 3), numeric: true },
  { header: 'Perimeter px', cell: (r: Row) => num(r.metrics.perimeterPixels, 1), numeric: true },
  { header: 'Mean grey', cell: (r: Row) => num(r.metrics.meanIntensity, 1), numeric: true },
  { header: 'Dice', cell: (r: Row) => num(r.metrics.dice, 3), numeric: true },
  { header: 'Models', cell: (r: Row) => r.modelVersions.join(', ') },
];

export function MetricsTable({ rows, caption }: { rows: readonly Row[]; caption: string }): ReactNode {
  return (
    <Table
      caption={caption}
      columns={COLUMNS}
      rows={rows}
      rowKey={(r) => r.id}
      empty="No segmentation matches the filters."
    />
  );
}
