// The research page's GraphQL operations (typed by graphql-codegen from schema.graphql).
import { graphql } from '../../gql';

export const LesionMetricsQuery = graphql(`
  query ResearchLesionMetrics($filter: MetricsFilter, $first: Int, $after: String) {
    lesionMetrics(filter: $filter, first: $first, after: $after) {
      totalCount
      exportId
      edges {
        node {
          id
          subject
          image
          createdAt
          label
          confidence
          malignant
          abstained
          severity
          modelVersions
          metrics {
            areaPercent
            areaPixels
            circularity
            perimeterPixels
            meanIntensity
            dice
            jaccard
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const LesionMetricsSummaryQuery = graphql(`
  query ResearchLesionMetricsSummary($filter: MetricsFilter) {
    lesionMetricsSummary(filter: $filter) {
      segmentations
      predictions
      bySeverity {
        severity
        count
      }
      byLabel {
        label
        count
      }
      byModelVersion {
        modelVersion
        count
        areaPercent {
          mean
          p25
          p50
          p75
          p95
        }
        circularity {
          mean
          p25
          p50
          p75
          p95
        }
      }
    }
  }
`);

export const ExportLesionMetricsCsvMutation = graphql(`
  mutation ResearchExportLesionMetricsCsv($filter: MetricsFilter) {
    exportLesionMetricsCsv(filter: $filter) {
      url
      expiresAt
    }
  }
`);
