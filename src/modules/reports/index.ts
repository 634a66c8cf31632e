// Public API of the reports module ([10]): standalone renderers that take plain data (no database access).
export { renderImageReport, severityRuleText, REPORT_DISCLAIMER, REPORT_DISCLAIMER_LEAD } from './pdf/image-report';
export type { ImageReportData, ImageReportOptions, ReportModelRef, ReportPaper } from './pdf/types';
