// The models page's GraphQL operations (typed by graphql-codegen from schema.graphql).
import { graphql } from '../../../gql';

export const ModelVersionFields = graphql(`
  fragment AdminModelVersion on ModelVersion {
    id
    name
    version
    task
    status
    active
    loaded
    error
    sha256
    loadMs
    loadedAt
    createdAt
    labels
    uploader {
      id
      email
    }
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
    stats {
      requests
      errors
      p50Ms
      p95Ms
    }
  }
`);

export const ModelsQuery = graphql(`
  query AdminModels {
    models {
      id
      name
      task
      activeVersion
      versions {
        ...AdminModelVersion
      }
    }
  }
`);

export const UploadModelPackageMutation = graphql(`
  mutation AdminUploadModelPackage($file: Upload!, $activate: Boolean!) {
    uploadModelPackage(file: $file, activate: $activate) {
      ...AdminModelVersion
    }
  }
`);

export const ActivateModelVersionMutation = graphql(`
  mutation AdminActivateModelVersion($name: String!, $version: String!) {
    activateModelVersion(name: $name, version: $version) {
      ...AdminModelVersion
    }
  }
`);

export const RollbackModelVersionMutation = graphql(`
  mutation AdminRollbackModelVersion($name: String!) {
    rollbackModelVersion(name: $name) {
      ...AdminModelVersion
    }
  }
`);

export const UnloadModelVersionMutation = graphql(`
  mutation AdminUnloadModelVersion($name: String!, $version: String!) {
    unloadModelVersion(name: $name, version: $version) {
      ...AdminModelVersion
    }
  }
`);

export const SetModelDeviceMutation = graphql(`
  mutation AdminSetModelDevice($name: String!, $version: String, $device: DeviceInput!) {
    setModelDevice(name: $name, version: $version, device: $device) {
      ...AdminModelVersion
    }
  }
`);

export const ModelRegistryEventsSubscription = graphql(`
  subscription AdminModelRegistryEvents {
    modelRegistryEvents {
      type
      name
      version
      previousVersion
      message
      processId
      at
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
`);
