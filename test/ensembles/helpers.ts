import { JOB_FIELDS, PREDICTION_FIELDS } from '../inference/helpers';

/** What the named-ensemble tests read of a prediction: the usual fields and the members' own outputs. */
export const MEMBER_FIELDS = `${PREDICTION_FIELDS} ensemble memberResults { model version weight label confidence malignantProbability probabilities { label probability } } memberDisagreement { malignantProbabilitySpread malignantProbabilityStdDev labelsDisagree }`;

export const ENSEMBLE_FIELDS =
  'name description isDefault createdAt updatedAt updatedBy members { model version weight normalisedWeight }';

export const EQ = {
  classify: `mutation($imageId: ID!, $models: [EnsembleMemberInput!], $ensemble: String, $wait: Boolean) { classifyImage(imageId: $imageId, models: $models, ensemble: $ensemble, explain: false, wait: $wait) { ${JOB_FIELDS} } }`,
  prediction: `query($id: ID!) { prediction(id: $id) { ${MEMBER_FIELDS} } }`,
  list: `{ classificationEnsembles { ${ENSEMBLE_FIELDS} } }`,
  one: `query($name: String!) { classificationEnsemble(name: $name) { ${ENSEMBLE_FIELDS} } }`,
  create: `mutation($name: String!, $members: [ClassificationEnsembleMemberInput!]!, $description: String) { createClassificationEnsemble(name: $name, members: $members, description: $description) { ${ENSEMBLE_FIELDS} } }`,
  update: `mutation($name: String!, $members: [ClassificationEnsembleMemberInput!]!) { updateClassificationEnsemble(name: $name, members: $members) { ${ENSEMBLE_FIELDS} } }`,
  remove: `mutation($name: String!) { deleteClassificationEnsemble(name: $name) { ${ENSEMBLE_FIELDS} } }`,
};

/** The first error's code and the extensions a client branches on. */
export const refusal = (r: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => {
  const e = r.errors?.[0]?.extensions ?? {};
  return { code: e.code, field: e.field, reason: e.reason };
};
