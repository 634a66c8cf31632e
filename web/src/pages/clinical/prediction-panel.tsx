// The classification of an image: label, confidence (or "Indeterminate" and why, when it abstained), every
// probability, the models that voted, and the Grad-CAM map over the image with its opacity slider; "Classify" queues
// a new one and streams its stages.
import { useState, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { Button, ErrorMessage, SelectField, Slider, formatDateTime, formatPercent, useGraphQLErrors } from '../../ui';
import { deviceName } from './ensemble';
import { JobProgress } from './job-progress';
import { ClassifyImagesMutation } from './inference-operations';
import { Stack } from './overlay';
import type { ClinicalImageResultQuery } from '../../gql/graphql';
import { sameOrigin } from './urls';
import { reasonSentence } from './prediction-flags';

const TARGET = ['targetClass'] as const;

type Prediction = NonNullable<NonNullable<ClinicalImageResultQuery['image']>['latestPrediction']>;

export function GradCamView(props: { src: string; alt: string; prediction?: Prediction | null }): ReactNode {
  const [opacity, setOpacity] = useState(0.5);
  const cam = props.prediction?.gradCam;
  return (
    <figure className="clinical-figure">
      <Stack src={props.src} alt={props.alt}>
        {cam ? (
          <img
            className="clinical-layer"
            data-testid="gradcam-overlay"
            src={sameOrigin(cam.heatmapUrl)}
            alt=""
            aria-hidden="true"
            style={{ opacity }}
          />
        ) : null}
      </Stack>
      <figcaption>
        {cam ? (
          <>
            <Slider
              label="Grad-CAM opacity"
              value={opacity}
              onChange={setOpacity}
              step={0.05}
              format={(v) => formatPercent(v, 0)}
            />
            <span className="clinical-muted">
              {cam.method === 'GRAD_CAM' ? 'Grad-CAM' : 'Score-CAM'} of “{cam.targetClass}” on {cam.model}
            </span>
          </>
        ) : (
          <span className="clinical-muted">No Grad-CAM map: classify the image with Grad-CAM to see one.</span>
        )}
      </figcaption>
    </figure>
  );
}

export function PredictionPanel(props: {
  imageId: string;
  prediction?: Prediction | null;
  onFinished: () => void;
}): ReactNode {
  const [classify, run] = useMutation(ClassifyImagesMutation);
  const [jobId, setJobId] = useState<string | null>(null);
  const [target, setTarget] = useState('');
  const p = props.prediction;
  const errors = useGraphQLErrors(classify.error, TARGET);

  async function start(): Promise<void> {
    setJobId(null);
    const res = await run({ imageIds: [props.imageId], explain: true, targetClass: target || null });
    if (res.data) setJobId(res.data.classifyImages.id);
  }

  return (
    <section aria-labelledby="prediction-heading" className="clinical-panel">
      <h2 id="prediction-heading">Classification</h2>
      {p ? (
        <>
          {p.abstained ? (
            // Abstained: no call, the reasons in words; the model's label only for reference.
            <>
              <p className="clinical-verdict" data-testid="prediction-label">
                <strong>Indeterminate</strong>{' '}
                <span>
                  leaning {p.label}, confidence {formatPercent(p.confidence)}
                </span>
                <span className="clinical-badge clinical-moderate">
                  no call: malignant probability {formatPercent(p.malignantProbability)}
                </span>
              </p>
              <p data-testid="prediction-flags">{reasonSentence(p.reasons)}</p>
            </>
          ) : (
            <p className="clinical-verdict" data-testid="prediction-label">
              <strong>{p.label}</strong> <span>confidence {formatPercent(p.confidence)}</span>
              <span className={p.malignant ? 'clinical-badge clinical-high' : 'clinical-badge clinical-low'}>
                {p.malignant ? 'called malignant' : 'not called malignant'}: malignant probability{' '}
                {formatPercent(p.malignantProbability)}
              </span>
            </p>
          )}
          <table className="table">
            <caption>Every label’s probability</caption>
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Probability</th>
              </tr>
            </thead>
            <tbody>
              {p.probabilities.map((l) => (
                <tr key={l.label}>
                  <th scope="row">{l.label}</th>
                  <td>
                    <meter min={0} max={1} value={l.probability} aria-label={`${l.label} probability`} />{' '}
                    {formatPercent(l.probability, 2)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="clinical-muted">
            {formatDateTime(p.createdAt)} ·{' '}
            {p.members
              .map(
                (m) =>
                  `${m.model}@${m.version} (weight ${m.weight.toFixed(2)}, ${deviceName(m.device)}${m.fallbackReason ? `, fell back: ${m.fallbackReason}` : ''})`,
              )
              .join(', ')}
          </p>
        </>
      ) : (
        <p className="clinical-muted">Not classified yet.</p>
      )}
      <div className="clinical-inline-form">
        {p ? (
          // The labels are the model's, as the last classification listed them.
          <SelectField
            label="Grad-CAM of the label"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            error={errors.fieldError('targetClass')}
          >
            <option value="">The predicted one</option>
            {p.probabilities.map((l) => (
              <option key={l.label} value={l.label}>
                {l.label}
              </option>
            ))}
          </SelectField>
        ) : null}
        <div className={p ? 'clinical-submit' : undefined}>
          <Button variant={p ? 'secondary' : 'primary'} busy={classify.fetching} onClick={() => void start()}>
            {p ? 'Classify again with Grad-CAM' : 'Classify with Grad-CAM'}
          </Button>
          <ErrorMessage errors={errors.others} />
        </div>
      </div>
      {jobId ? <JobProgress key={jobId} jobId={jobId} label="Classification" onFinished={props.onFinished} /> : null}
    </section>
  );
}
