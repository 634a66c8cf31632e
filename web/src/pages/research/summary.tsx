// The aggregates of the filtered metrics: counts per severity and label, and area and circularity per model version
// (its own masks, alone or as an ensemble member) and per ensemble (the ensemble's masks), as box charts (each with
// its numbers in a table).
import type { ReactNode } from 'react';
import type { ResearchLesionMetricsSummaryQuery } from '../../gql/graphql';
import { DistributionChart } from './distribution-chart';

type Summary = NonNullable<ResearchLesionMetricsSummaryQuery['lesionMetricsSummary']>;

export function MetricsSummary({ summary }: { summary: Summary }): ReactNode {
  const byVersion = summary.byModelVersion;
  return (
    <section aria-labelledby="summary-heading">
      <h2 id="summary-heading">Summary</h2>
      <dl className="facts" aria-label="Totals">
        <div>
          <dt>Segmentations</dt>
          <dd>{summary.segmentations}</dd>
        </div>
        <div>
          <dt>Predictions</dt>
          <dd>{summary.predictions}</dd>
        </div>
        {summary.bySeverity.map((s) => (
          <div key={s.severity}>
            <dt>Severity {s.severity.toLowerCase()}</dt>
            <dd>{s.count}</dd>
          </div>
        ))}
        {summary.byLabel.map((l) => (
          <div key={l.label}>
            <dt>Label {l.label}</dt>
            <dd>{l.count}</dd>
          </div>
        ))}
      </dl>
      <div className="research-charts">
        <DistributionChart
          title="Lesion area per model version and ensemble"
          description="Distribution of the lesion area, in percent of the image: of the masks each model version made itself (alone or as an ensemble member), and of each ensemble's own masks."
          unit="% of image"
          digits={2}
          rows={byVersion.map((r) => ({ label: r.modelVersion, count: r.count, q: r.areaPercent }))}
        />
        <DistributionChart
          title="Border circularity per model version and ensemble"
          description="Distribution of the border circularity (1 is a disk) of the lesion's largest piece: of the masks each model version made itself, and of each ensemble's own masks."
          unit="circularity (0 to 1)"
          max={1}
          digits={3}
          rows={byVersion.map((r) => ({ label: r.modelVersion, count: r.count, q: r.circularity }))}
        />
      </div>
    </section>
  );
}
