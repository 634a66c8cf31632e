import { Field, Float, ObjectType } from 'type-graphql';
import { Severity, type SegmentationMemberRecord } from '../../../entities/segmentation';
import { LesionMetricsValues } from './jobs.types';

@ObjectType({
  description:
    'One ensemble member’s own segmentation: its probability map post-processed exactly as the ensemble’s (same field of view and threshold), measured and graded',
})
export class SegmentationMemberResult {
  @Field(() => String, { description: 'Model.name' }) model!: string;
  @Field(() => String, { description: 'The version that ran' }) version!: string;
  @Field(() => Float, { description: 'Its normalised weight in the ensemble, 0..1' }) weight!: number;
  @Field(() => String, {
    description: 'Signed URL (as Segmentation.maskUrl) of this member’s binary mask PNG at the image resolution',
  })
  maskUrl!: string;
  @Field(() => LesionMetricsValues, {
    description:
      'This member’s mask measured as the ensemble’s is (dice and jaccard are null: no ground truth per member)',
  })
  metrics!: LesionMetricsValues;
  @Field(() => Boolean, { description: 'This member’s mask reaches the image’s or the field’s edge' })
  touchesBorder!: boolean;
  @Field(() => Severity, { description: 'This member’s mask graded as the ensemble’s is' }) severity!: Severity;
  @Field(() => Float, { description: 'Dice between this member’s mask and the ensemble’s, 0..1' })
  diceWithEnsemble!: number;
}

/** The signed-file variant of member `index`'s mask (`/files/segmentations/<id>/member-<index>-mask`). */
export const memberMaskVariant = (index: number) => `member-${index}-mask`;
export const MEMBER_MASK = /^member-(\d)-mask$/;

/** The members that kept their own output, as the API shows them; `maskUrl(i)` signs member i's mask. */
export function memberResults(
  records: readonly SegmentationMemberRecord[],
  maskUrl: (index: number) => string,
): SegmentationMemberResult[] {
  return records.flatMap((m, i) => {
    const o = m.output;
    if (!o) return [];
    const { maskSha256: _sha, touchesBorder, severity, diceWithEnsemble, ...metrics } = o;
    return [
      {
        model: m.model,
        version: m.version,
        weight: m.weight,
        maskUrl: maskUrl(i),
        metrics: { ...metrics, dice: null, jaccard: null },
        touchesBorder,
        severity,
        diceWithEnsemble,
      },
    ];
  });
}
