// The segmentation ensemble builder's state and its translation into EnsembleMemberInput rows.
import type { ClinicalModelsQuery, DeviceKind, EnsembleMemberInput } from '../../gql/graphql';

export type ModelInfo = NonNullable<ClinicalModelsQuery['models']>[number];

export interface MemberDraft {
  model: string;
  include: boolean;
  weight: string;
  /** '' = the version's own placement. */
  kind: '' | DeviceKind;
  index: string;
  /** '' = whatever version is active when the job starts. */
  version: string;
}

export const DEVICE_KINDS: DeviceKind[] = ['CPU', 'CUDA', 'TENSORRT', 'WEBGPU'];
export const indexed = (kind: string): boolean => kind === 'CUDA' || kind === 'TENSORRT';

/** Segmentation models with an active version: what an ensemble can use without pinning. */
export function activeSegmentationModels(models: ModelInfo[]): ModelInfo[] {
  return models.filter((m) => m.task === 'SEGMENTATION' && m.activeVersion);
}

/** Versions a member may pin: loaded and checked (ACTIVE or READY). */
export function pinnableVersions(model: ModelInfo): string[] {
  return model.versions.filter((v) => v.status === 'ACTIVE' || v.status === 'READY').map((v) => v.version);
}

/** One row per segmentation model, the active ones included at weight 1. */
export function initialDrafts(models: ModelInfo[]): MemberDraft[] {
  return models
    .filter((m) => m.task === 'SEGMENTATION')
    .map((m) => ({ model: m.name, include: !!m.activeVersion, weight: '1', kind: '', index: '', version: '' }));
}

/**
 * The members to send, and for each the draft row it came from (the server's errors name `members[i]`, i
 * counting the members sent). Values go as typed: the server checks weights, indices and versions and says
 * what is wrong beside the right row; only an empty field is left out (its default applies).
 */
export function toMembers(drafts: MemberDraft[]): { members: EnsembleMemberInput[]; rows: number[] } {
  const members: EnsembleMemberInput[] = [];
  const rows: number[] = [];
  drafts.forEach((d, row) => {
    if (!d.include) return;
    const m: EnsembleMemberInput = { model: d.model };
    if (d.weight.trim() !== '') m.weight = Number(d.weight);
    if (d.version) m.version = d.version;
    if (d.kind) {
      m.device = { kind: d.kind };
      if (indexed(d.kind) && d.index.trim() !== '') m.device.index = Number(d.index);
    }
    members.push(m);
    rows.push(row);
  });
  return { members, rows };
}

/** "cuda:1", "cpu": how a device reads in a table. */
export function deviceName(d?: { kind: string; index?: number | null } | null): string {
  return d ? `${d.kind.toLowerCase()}${d.index != null ? `:${d.index}` : ''}` : '—';
}
