/** Research: de-identified exports and summaries of segmentation metrics. */
export { ResearchResolver } from './research.resolver';
export { ResearchService } from './research.service';
export { researchCsvRoute } from './research-csv.route';
