// A segmentation of the image: the mask over it with its own opacity slider, the metrics with the severity
// and the rule that gave it, and the members that ran (version, weight, device, fallback).
import { useState, type ReactNode } from 'react';
import { Slider, formatDateTime, formatPercent } from '../../ui';
import { deviceName } from './ensemble';
import { MaskLayer, Stack } from './overlay';
import type { ClinicalImageResultQuery } from '../../gql/graphql';

export type SegmentationResult = NonNullable<
  ClinicalImageResultQuery['image']
>['segmentations']['edges'][number]['node'];

const num = (v: number | null | undefined, digits: number): string => (v == null ? '—' : v.toFixed(digits));

export function MaskView(props: { src: string; alt: string; segmentation: SegmentationResult }): ReactNode {
  const [opacity, setOpacity] = useState(0.4);
  return (
    <figure className="clinical-figure">
      <Stack src={props.src} alt={`${props.alt}, with the lesion mask`}>
        <MaskLayer maskUrl={props.segmentation.maskUrl} opacity={opacity} />
      </Stack>
      <figcaption>
        <Slider
          label="Mask opacity"
          value={opacity}
          onChange={setOpacity}
          step={0.05}
          format={(v) => formatPercent(v, 0)}
        />
        <span className="clinical-muted">Lesion tinted red, its outline green</span>
      </figcaption>
    </figure>
  );
}

export function SegmentationDetails({ segmentation: s }: { segmentation: SegmentationResult }): ReactNode {
  const m = s.metrics;
  const rows: [string, string][] = [
    ['Area', `${num(m.areaPercent, 2)} % (${m.areaPixels} px)`],
    ['Perimeter', `${num(m.perimeterPixels, 1)} px`],
    ['Circularity', num(m.circularity, 3)],
    ['Mean intensity', num(m.meanIntensity, 1)],
    ['Intensity std. dev.', num(m.stdIntensity, 1)],
    ['Dice (ground truth)', num(m.dice, 3)],
    ['Jaccard (ground truth)', num(m.jaccard, 3)],
    ['Threshold', num(s.threshold, 2)],
  ];
  return (
    <>
      <table className="table" data-testid="metrics-table">
        <caption>Mask measurements ({formatDateTime(s.createdAt)})</caption>
        <tbody>
          <tr>
            <th scope="row">Severity</th>
            <td>
              <span className={`clinical-badge clinical-${s.severity.toLowerCase()}`}>{s.severity}</span>{' '}
              <span data-testid="severity-rule">{s.severityReason}</span>
            </td>
          </tr>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="table">
        <caption>Ensemble members</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Weight</th>
            <th scope="col">Device</th>
          </tr>
        </thead>
        <tbody>
          {s.members.map((mb) => (
            <tr key={`${mb.model}@${mb.version}`}>
              <th scope="row">
                {mb.model}@{mb.version}
              </th>
              <td>{mb.weight.toFixed(2)}</td>
              <td>
                {deviceName(mb.device)}
                {deviceName(mb.requestedDevice) !== deviceName(mb.device)
                  ? ` (asked for ${deviceName(mb.requestedDevice)}${mb.fallbackReason ? `: ${mb.fallbackReason}` : ''})`
                  : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
