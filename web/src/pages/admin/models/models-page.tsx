// Models (admins): every model and version as the registry holds them, a package upload with its checks, and the
// registry's live events. Reads the list again after each event, so a swap started anywhere shows up here.
import { useCallback, type ReactNode } from 'react';
import { useQuery } from 'urql';
import { ErrorMessage, PageTitle, ProgressBar, apiErrors } from '../../../ui';
import { ModelsQuery } from './operations';
import { ModelCard } from './model-card';
import { RegistryEvents } from './registry-events';
import { UploadPackage } from './upload-package';
import '../admin.css';

export function ModelsPage(): ReactNode {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ModelsQuery });
  const reload = useCallback(() => refetch({ requestPolicy: 'network-only' }), [refetch]);
  const models = data?.models ?? [];
  return (
    <section className="page admin">
      <PageTitle>Models</PageTitle>
      <UploadPackage onInstalled={reload} />
      <h2>Models and versions</h2>
      <ErrorMessage errors={apiErrors(error)} />
      {fetching && !data ? <ProgressBar label="Loading models" /> : null}
      {data && models.length === 0 ? <p className="muted">No model is installed.</p> : null}
      {models.map((m) => (
        <ModelCard key={m.id} model={m} />
      ))}
      <RegistryEvents onEvent={reload} />
    </section>
  );
}
