// Public API of the reports module ([10]): generateReport and its jobs, and the renderers they use.
import { ReportsResolver, PatientReportsResolver, reportNodes } from './reports.resolver';
import type { ReportsModule } from './reports.module';

export { createReportsModule, type ReportsModule } from './reports.module';
export { renderImageReport, severityRuleText, REPORT_DISCLAIMER, REPORT_DISCLAIMER_LEAD } from './pdf/image-report';
export type { ImageReportData, ImageReportOptions, ReportModelRef, ReportPaper } from './pdf/types';
export { clinicalCsv, researchCsv, CLINICAL_LEADING_COLUMNS, RESEARCH_COLUMNS } from './csv/csv-export';
export type { ClinicalCsvOptions } from './csv/csv-export';
export { neutralise, cellText } from './csv/cells';
export type { CsvModelRef, ImageMetrics, ImageRow, MetricsRow } from './csv/types';
export { zipStream, MANIFEST_COLUMNS } from './zip/zip-stream';
export type { ZipManifestRow, ZipOptions, ZipResult, ZipSourceEntry } from './zip/zip-stream';
export { patientEntryName, safePath, safeSegment, UniqueNames } from './zip/entry-names';

export { reportNodes };
export const reportResolvers = [ReportsResolver, PatientReportsResolver] as const;

declare module '../../schema/context' {
  interface Services {
    /** generateReport, report files, and the REPORT job kind. */
    reports: ReportsModule;
  }
}
