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
            abstained
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
              abstained
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
              abstained
            }
            ... on SegmentationEvent {
              at
              imageId
              segmentationId
              severity
              areaPercent
            }
            ... on ReportGeneratedEvent {
              at
              reportId
              text
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

export const UpdatePatientMutation = graphql(`
  mutation ClinicalUpdatePatient($id: ID!, $input: PatientInput!) {
    updatePatient(id: $id, input: $input) {
      id
      externalId
      displayName
      dateOfBirth
      sex
      notes
    }
  }
`);

export const ArchivePatientMutation = graphql(`
  mutation ClinicalArchivePatient($id: ID!) {
    archivePatient(id: $id) {
      id
      archived
    }
  }
`);

export const UnarchivePatientMutation = graphql(`
  mutation ClinicalUnarchivePatient($id: ID!) {
    unarchivePatient(id: $id) {
      id
      archived
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
