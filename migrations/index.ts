import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261121043415_initial } from './Migration20261121043415_initial';
import { Migration20261121043821_auth } from './Migration20261121043821_auth';
import { Migration20261121050550_patients } from './Migration20261121050550_patients';
import { Migration20261121050618_inference } from './Migration20261121050618_inference';
import { Migration20261121050650_model_versions } from './Migration20261121050650_model_versions';
import { Migration20261121053033_inference_unique } from './Migration20261121053033_inference_unique';
import { Migration20261121094713_prediction_usage } from './Migration20261121094713_prediction_usage';
import { Migration20261130120000_model_activations } from './Migration20261130120000_model_activations';
import { Migration20261130130000_segmentation_usage } from './Migration20261130130000_segmentation_usage';
import { Migration20261201100000_job_cancelled } from './Migration20261201100000_job_cancelled';
import { Migration20261201120000_reports } from './Migration20261201120000_reports';
import { Migration20261202100000_audit_request_id } from './Migration20261202100000_audit_request_id';
import { Migration20261202200000_user_admin } from './Migration20261202200000_user_admin';
import { Migration20261203100000_segmentation_lesion } from './Migration20261203100000_segmentation_lesion';
import { Migration20261203110000_segmentation_field } from './Migration20261203110000_segmentation_field';
import { Migration20261203120000_segmentation_members } from './Migration20261203120000_segmentation_members';
import { Migration20261203150000_classification_ensembles } from './Migration20261203150000_classification_ensembles';
import { Migration20261203160000_prediction_abstention } from './Migration20261203160000_prediction_abstention';
import { Migration20261204100000_default_classifier_gap } from './Migration20261204100000_default_classifier_gap';
import { Migration20261205100000_prediction_cam_map } from './Migration20261205100000_prediction_cam_map';
import { Migration20261206100000_upload_usage } from './Migration20261206100000_upload_usage';
import { Migration20261207100000_quota_guard } from './Migration20261207100000_quota_guard';

/**
 * Every migration, in order. Listed by hand (not globbed) so the same list works from the
 * TypeScript sources under Jest and from dist/ at run time. `npm run migration:create` rewrites it.
 */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261121043415_initial', class: Migration20261121043415_initial },
  { name: 'Migration20261121043821_auth', class: Migration20261121043821_auth },
  { name: 'Migration20261121050550_patients', class: Migration20261121050550_patients },
  { name: 'Migration20261121050618_inference', class: Migration20261121050618_inference },
  { name: 'Migration20261121050650_model_versions', class: Migration20261121050650_model_versions },
  { name: 'Migration20261121053033_inference_unique', class: Migration20261121053033_inference_unique },
  { name: 'Migration20261121094713_prediction_usage', class: Migration20261121094713_prediction_usage },
  { name: 'Migration20261130120000_model_activations', class: Migration20261130120000_model_activations },
  { name: 'Migration20261130130000_segmentation_usage', class: Migration20261130130000_segmentation_usage },
  { name: 'Migration20261201100000_job_cancelled', class: Migration20261201100000_job_cancelled },
  { name: 'Migration20261201120000_reports', class: Migration20261201120000_reports },
  { name: 'Migration20261202100000_audit_request_id', class: Migration20261202100000_audit_request_id },
  { name: 'Migration20261202200000_user_admin', class: Migration20261202200000_user_admin },
  { name: 'Migration20261203100000_segmentation_lesion', class: Migration20261203100000_segmentation_lesion },
  { name: 'Migration20261203110000_segmentation_field', class: Migration20261203110000_segmentation_field },
  { name: 'Migration20261203120000_segmentation_members', class: Migration20261203120000_segmentation_members },
  {
    name: 'Migration20261203150000_classification_ensembles',
    class: Migration20261203150000_classification_ensembles,
  },
  { name: 'Migration20261203160000_prediction_abstention', class: Migration20261203160000_prediction_abstention },
  { name: 'Migration20261204100000_default_classifier_gap', class: Migration20261204100000_default_classifier_gap },
  { name: 'Migration20261205100000_prediction_cam_map', class: Migration20261205100000_prediction_cam_map },
  { name: 'Migration20261206100000_upload_usage', class: Migration20261206100000_upload_usage },
  { name: 'Migration20261207100000_quota_guard', class: Migration20261207100000_quota_guard },
];
