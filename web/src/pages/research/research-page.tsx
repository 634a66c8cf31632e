// Research (researchers and admins): de-identified lesion metrics with filters, their summary and charts, and a
// CSV export of everything the filter matches. The filter lives in the URL, so a view can be bookmarked.
import { useState, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { Button, ErrorMessage, PageTitle, ProgressBar, apiErrors } from '../../ui';
import { draftFrom, metricsFilter, paramsFrom, FILTER_KEYS } from './filter';
import { FiltersForm } from './filters-form';
import { ExportCsv } from './export-csv';
import { MetricsSummary } from './summary';
import { MetricsTable } from './metrics-table';
import { LesionMetricsQuery, LesionMetricsSummaryQuery } from './operations';
import './research.css';

const PAGE = 25;

/** A new URL filter starts a fresh form and the first page. */
export function ResearchPage(): ReactNode {
  const [params] = useSearchParams();
  return <ResearchView key={params.toString()} />;
}

function ResearchView(): ReactNode {
  const [params, setParams] = useSearchParams();
  const draft = draftFrom(params);
  const filter = metricsFilter(draft);
  // Cursors of the pages before this one; the export id stays the same across them.
  const [cursors, setCursors] = useState<string[]>([]);
  const [rows] = useQuery({ query: LesionMetricsQuery, variables: { filter, first: PAGE, after: cursors.at(-1) } });
  const [summary] = useQuery({ query: LesionMetricsSummaryQuery, variables: { filter } });
  // The unfiltered summary names every model@version, for the filter's suggestions.
  const [all] = useQuery({ query: LesionMetricsSummaryQuery, variables: { filter: {} } });
  const errors = [...apiErrors(rows.error), ...apiErrors(summary.error)];
  const fieldError = (name: string) => errors.find((e) => e.field && e.field.split('.').pop() === name)?.message;
  const owned = new Set(FILTER_KEYS.map((k) => fieldError(k)).filter(Boolean));
  const conn = rows.data?.lesionMetrics;
  const s = summary.data?.lesionMetricsSummary;

  return (
    <section className="page research">
      <PageTitle actions={<ExportCsv filter={filter} />}>Research metrics</PageTitle>
      <p className="research-muted">
        De-identified: subjects and images are hashed ids, stable within one export; no names or record numbers.
      </p>
      <FiltersForm
        initial={draft}
        modelVersions={all.data?.lesionMetricsSummary?.byModelVersion.map((m) => m.modelVersion) ?? []}
        fieldError={fieldError}
        onApply={(d) => setParams(paramsFrom(d))}
      />
      <ErrorMessage
        errors={[...new Map(errors.filter((e) => !owned.has(e.message)).map((e) => [e.message, e])).values()]}
      />
      {(rows.fetching && !conn) || (summary.fetching && !s) ? <ProgressBar label="Loading metrics" /> : null}
      {s ? <MetricsSummary summary={s} /> : null}
      {conn ? (
        <section aria-labelledby="rows-heading">
          <h2 id="rows-heading">Segmentations</h2>
          <MetricsTable
            rows={conn.edges.map((e) => e.node)}
            caption={`${conn.totalCount} ${conn.totalCount === 1 ? 'segmentation' : 'segmentations'}, newest first (page ${cursors.length + 1})`}
          />
          <div className="research-paging">
            <Button disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous page
            </Button>
            <Button
              disabled={!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor}
              onClick={() => setCursors([...cursors, conn.pageInfo.endCursor!])}
            >
              Next page
            </Button>
          </div>
        </section>
      ) : null}
    </section>
  );
}
