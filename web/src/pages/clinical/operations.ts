// The clinical pages' GraphQL operations (typed by graphql-codegen from schema.graphql).
import { graphql } from '../../gql';

export const PatientsQuery = graphql(`
  query ClinicalPatients($search: String, $first: Int, $after: String, $includeArchived: Boolean) {
    patients(search: $search, first: $first, after: $after, includeArchived: $includeArchived) {
      totalCount
      edges {
        node {
          id
          externalId
          displayName
          dateOfBirth
          archived
          imageCount
          createdAt
          latestPrediction {
            id
            label
            confidence
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

export const CreatePatientMutation = graphql(`
  mutation ClinicalCreatePatient($input: PatientInput!) {
    createPatient(input: $input) {
      id
    }
  }
`);

export const PatientQuery = graphql(`
  query ClinicalPatient($id: ID!) {
    patient(id: $id) {
      id
      externalId
      displayName
      dateOfBirth
      sex
      notes
      archived
      createdAt
      imageCount
      owner {
        id
        name
        email
      }
      sharedWith {
        id
        name
        email
      }
      lesions {
        id
        label
        bodySite
        createdAt
      }
      images(first: 60) {
        totalCount
        edges {
          node {
            id
            originalName
            createdAt
            thumbnail: url(variant: THUMBNAIL)
            lesion {
              id
              label
            }
            latestPrediction {
              id
              label
              confidence
            }
          }
        }
      }
    }
  }
`);

export const TimelineQuery = graphql(`
  query ClinicalTimeline($id: ID!, $after: String) {
    patient(id: $id) {
      id
      timeline(first: 30, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          cursor
          node {
            __typename
            ... on PatientCreatedEvent {
              at
              actor {
                id
                name
                email
              }
            }
            ... on PatientChangedEvent {
              at
              changedFields
              actor {
                id
                name
                email
              }
            }
            ... on LesionAddedEvent {
              at
              lesion {
                id
                label
                bodySite
              }
            }
            ... on ImageUploadedEvent {
              at
              image {
                id
                originalName
              }
            }
            ... on PredictionEvent {
              at
              imageId
              predictionId
              label
              confidence
              malignant
            }
            ... on SegmentationEvent {
              at
              imageId
              segmentationId
              severity
              areaPercent
            }
            ... on NoteAddedEvent {
              at
              id
              text
              actor {
                id
                name
                email
              }
            }
          }
        }
      }
    }
  }
`);

export const CreateLesionMutation = graphql(`
  mutation ClinicalCreateLesion($patientId: ID!, $input: LesionInput!) {
    createLesion(patientId: $patientId, input: $input) {
      id
    }
  }
`);

export const AddNoteMutation = graphql(`
  mutation ClinicalAddNote($patientId: ID!, $text: String!) {
    addPatientNote(patientId: $patientId, text: $text) {
      id
    }
  }
`);

export const ShareMutation = graphql(`
  mutation ClinicalShare($patientId: ID!, $userId: ID!) {
    sharePatient(patientId: $patientId, userId: $userId) {
      id
      sharedWith {
        id
        name
        email
      }
    }
  }
`);

export const UnshareMutation = graphql(`
  mutation ClinicalUnshare($patientId: ID!, $userId: ID!) {
    unsharePatient(patientId: $patientId, userId: $userId) {
      id
      sharedWith {
        id
        name
        email
      }
    }
  }
`);

export const UploadPatientQuery = graphql(`
  query ClinicalUploadPatient($id: ID!) {
    patient(id: $id) {
      id
      displayName
      archived
      lesions {
        id
        label
        bodySite
      }
    }
  }
`);

export const UploadImagesMutation = graphql(`
  mutation ClinicalUploadImages($patientId: ID!, $lesionId: ID, $files: [Upload!]!) {
    uploadImages(patientId: $patientId, lesionId: $lesionId, files: $files) {
      id
      originalName
    }
  }
`);

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
  mutation ClinicalClassify($imageIds: [ID!]!, $explain: Boolean!) {
    classifyImages(imageIds: $imageIds, explain: $explain) {
      id
      status
      imageCount
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
