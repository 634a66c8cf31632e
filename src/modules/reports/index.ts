// Public API of the reports module ([10]): standalone renderers that take plain data (no database access).
export { renderImageReport, severityRuleText, REPORT_DISCLAIMER, REPORT_DISCLAIMER_LEAD } from './pdf/image-report';
export type { ImageReportData, ImageReportOptions, ReportModelRef, ReportPaper } from './pdf/types';
export { clinicalCsv, researchCsv, CLINICAL_LEADING_COLUMNS, RESEARCH_COLUMNS } from './csv/csv-export';
export type { ClinicalCsvOptions } from './csv/csv-export';
export { neutralise, cellText } from './csv/cells';
export type { CsvModelRef, ImageMetrics, ImageRow, MetricsRow } from './csv/types';
export { zipStream, MANIFEST_COLUMNS } from './zip/zip-stream';
export type { ZipManifestRow, ZipOptions, ZipResult, ZipSourceEntry } from './zip/zip-stream';
export { patientEntryName, safePath, safeSegment, UniqueNames } from './zip/entry-names';
