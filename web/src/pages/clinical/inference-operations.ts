// The inference operations of the clinical pages: models, classify / segment jobs, their progress, an image's results.
import { graphql } from '../../gql';

export const ModelsQuery = graphql(`
  query ClinicalModels {
    models {
      id
      name
      task
      activeVersion
      versions {
        id
        version
        status
        device {
          requested {
            kind
            index
          }
          actual {
            kind
            index
          }
          fallbackReason
        }
      }
    }
  }
`);

export const ClassifyImagesMutation = graphql(`
  mutation ClinicalClassify($imageIds: [ID!]!, $explain: Boolean!, $targetClass: String) {
    classifyImages(imageIds: $imageIds, explain: $explain, targetClass: $targetClass) {
      id
      status
      imageCount
    }
  }
`);

export const CancelJobMutation = graphql(`
  mutation ClinicalCancelJob($id: ID!) {
    cancelJob(id: $id) {
      id
      status
    }
  }
`);

export const SegmentImagesMutation = graphql(`
  mutation ClinicalSegment($imageIds: [ID!]!, $members: [EnsembleMemberInput!]!, $threshold: Float!) {
    segmentImages(imageIds: $imageIds, members: $members, threshold: $threshold) {
      id
      status
      imageCount
    }
  }
`);

export const ProgressSubscription = graphql(`
  subscription ClinicalProgress($jobId: ID!) {
    inferenceProgress(jobId: $jobId) {
      seq
      at
      stage
      status
      progress
      imageId
      imageIndex
      imageCount
      model
      version
      requestedDevice {
        kind
        index
      }
      device {
        kind
        index
      }
      fallbackReason
      message
      predictionId
      segmentationId
    }
  }
`);

export const ImageResultQuery = graphql(`
  query ClinicalImageResult($id: ID!) {
    image(id: $id) {
      id
      originalName
      width
      height
      createdAt
      normalized: url(variant: NORMALIZED)
      patient {
        id
        displayName
        externalId
      }
      lesion {
        id
        label
        bodySite
      }
      latestPrediction {
        id
        createdAt
        label
        confidence
        malignant
        malignantProbability
        abstained
        reasons
        probabilities {
          label
          probability
        }
        members {
          model
          version
          weight
          device {
            kind
            index
          }
          requestedDevice {
            kind
            index
          }
          fallbackReason
        }
        gradCam {
          method
          model
          targetClass
          heatmapUrl
        }
      }
      segmentations(first: 10) {
        edges {
          node {
            id
            createdAt
            threshold
            severity
            severityReason
            width
            height
            maskUrl
            metrics {
              areaPercent
              areaPixels
              perimeterPixels
              circularity
              meanIntensity
              stdIntensity
              dice
              jaccard
            }
            members {
              model
              version
              weight
              device {
                kind
                index
              }
              requestedDevice {
                kind
                index
              }
              fallbackReason
            }
          }
        }
      }
    }
  }
`);
