// The result page of one image: classification with Grad-CAM, the segmentation ensemble builder with its live
// stages, the mask with its metrics and severity, and the downloads.
import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';
import { ErrorMessage, PageTitle, ProgressBar, SelectField, apiErrors, formatDateTime } from '../../ui';
import { Downloads } from './downloads';
import { EnsembleBuilder } from './ensemble-builder';
import { ImageResultQuery } from './inference-operations';
import { GradCamView, PredictionPanel } from './prediction-panel';
import { MaskView, SegmentationDetails } from './segmentation-view';

function ResultPageBody({ imageId }: { imageId: string }): ReactNode {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ImageResultQuery, variables: { id: imageId } });
  const [chosen, setChosen] = useState<string | null>(null);
  const image = data?.image;
  const reload = (): void => refetch({ requestPolicy: 'network-only' });

  if (!image) {
    return (
      <section className="page clinical">
        <PageTitle>Image result</PageTitle>
        {fetching ? <ProgressBar label="Loading the image" /> : null}
        <ErrorMessage errors={apiErrors(error)} />
      </section>
    );
  }

  const name = image.originalName ?? 'Image';
  const segmentations = image.segmentations.edges.map((e) => e.node);
  const segmentation = segmentations.find((s) => s.id === chosen) ?? segmentations[0];
  return (
    <section className="page clinical">
      <p className="clinical-back">
        {image.patient ? (
          <Link to={`/patients/${encodeURIComponent(image.patient.id)}`}>← {image.patient.displayName}</Link>
        ) : null}
      </p>
      <PageTitle>{name}</PageTitle>
      <p className="clinical-muted">
        {image.width} × {image.height} px · uploaded {formatDateTime(image.createdAt)}
        {image.lesion ? ` · lesion ${image.lesion.label} (${image.lesion.bodySite})` : ''}
      </p>
      <div className="clinical-result">
        <div className="clinical-result-column">
          <GradCamView src={image.normalized} alt={name} prediction={image.latestPrediction} />
          <PredictionPanel imageId={image.id} prediction={image.latestPrediction} onFinished={reload} />
        </div>
        <div className="clinical-result-column">
          {segmentation ? <MaskView src={image.normalized} alt={name} segmentation={segmentation} /> : null}
          <section aria-labelledby="segmentation-heading" className="clinical-panel">
            <h2 id="segmentation-heading">Segmentation</h2>
            {segmentations.length > 1 ? (
              <SelectField
                label="Segmentation shown"
                value={segmentation?.id}
                onChange={(e) => setChosen(e.target.value)}
              >
                {segmentations.map((s) => (
                  <option key={s.id} value={s.id}>
                    {formatDateTime(s.createdAt)} — {s.members.map((m) => m.model).join(' + ')} — {s.severity}
                  </option>
                ))}
              </SelectField>
            ) : null}
            {segmentation ? (
              <SegmentationDetails segmentation={segmentation} />
            ) : (
              <p className="clinical-muted">Not segmented yet: build an ensemble below and run it.</p>
            )}
          </section>
        </div>
      </div>
      <EnsembleBuilder
        imageId={image.id}
        onFinished={(id) => {
          if (id) setChosen(id);
          reload();
        }}
      />
      <Downloads input={{ imageIds: [image.id] }} kinds={['PDF', 'CSV', 'MASKS_ZIP']} />
    </section>
  );
}

/** Keyed by the id in the path: moving to another record starts afresh (no job or choice of the previous one). */
export function ResultPage(): ReactNode {
  const imageId = useParams().imageId ?? '';
  return <ResultPageBody key={imageId} imageId={imageId} />;
}
