// The Dermagraph typed client example: sign up (or in), create a patient, upload a lesion image and classify it
// in the same request (wait: true answers with the result), classify it again with an ensemble (classifyImage with
// wait), then segment it and follow the job's progress over a subscription until it ends. Every operation is a
// typed document node generated from schema.graphql.
//
//   DERMAGRAPH_URL    GraphQL endpoint (default http://localhost:4000/graphql)
//   DERMAGRAPH_EMAIL, DERMAGRAPH_PASSWORD   an existing account (e.g. from `dermagraph create-admin`): sign in
//                     with it; unset: sign up a new account
//   SERVER_LOG        the server's log file: read the verification mail from it (else the link is asked for)
//   IMAGE             the image to upload (default ../../datasets/isic-uda1/images/ISIC_0000150.jpg)
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CombinedGraphQLErrors } from '@apollo/client';
import { signIn, signUp } from './account.js';
import { createApi } from './client.js';
import { classifyEnsemble, createPatient, segmentAndFollow, uploadAndClassify } from './lesion-flow.js';

const here = dirname(fileURLToPath(import.meta.url));
const url = process.env.DERMAGRAPH_URL ?? 'http://localhost:4000/graphql';
const imagePath = process.env.IMAGE ?? resolve(here, '../../../datasets/isic-uda1/images/ISIC_0000150.jpg');

async function main(): Promise<void> {
  const api = createApi(url);
  try {
    const user = process.env.DERMAGRAPH_EMAIL
      ? await signIn(api, process.env.DERMAGRAPH_EMAIL, process.env.DERMAGRAPH_PASSWORD ?? '')
      : await signUp(api, {
          email: `example-${randomUUID().slice(0, 8)}@example.org`,
          password: `example client ${randomUUID()}`,
          name: 'Example Client',
          serverLog: process.env.SERVER_LOG,
        });
    console.log(`signed in: ${user.email} (${user.role})`);

    const patient = await createPatient(api, `EXAMPLE-${randomUUID().slice(0, 8)}`);
    console.log(`patient: ${patient.id} ${patient.externalId}`);

    const file = new File([await readFile(imagePath)], basename(imagePath), { type: 'image/jpeg' });
    const { image, prediction } = await uploadAndClassify(api, patient.id, file);
    console.log(
      `uploaded and classified in one request: image ${image.id} ${image.width}x${image.height} ${image.format}`,
    );
    console.log(
      `  ${prediction.label} (confidence ${prediction.confidence.toFixed(3)}, malignant probability ` +
        `${prediction.malignantProbability.toFixed(3)}) by ${prediction.members.map((m) => `${m.model}@${m.version}`).join(', ')}`,
    );
    // An abstained result is indeterminate: show why, and the label only as the model's leaning.
    if (prediction.abstained) console.log(`  indeterminate: ${prediction.reasons.join('; ')}`);
    const overlay = prediction.gradCam?.overlayUrl;
    if (!overlay) throw new Error('the prediction has no Grad-CAM overlay');
    // The signed URL works as given: no host to fix, a browser could use it in an <img>.
    const res = await fetch(overlay);
    const bytes = (await res.arrayBuffer()).byteLength;
    console.log(`  ${prediction.gradCam!.method} overlay: ${overlay}`);
    console.log(`  -> HTTP ${res.status} ${res.headers.get('content-type')}, ${bytes} bytes`);
    if (!res.ok) throw new Error(`the overlay URL answered HTTP ${res.status}`);

    const ensemble = await classifyEnsemble(api, image.id);
    console.log(
      `classifyImage(wait: true), a weighted ensemble: ${ensemble.label} (confidence ${ensemble.confidence.toFixed(3)}) by ` +
        ensemble.members.map((m) => `${m.model}@${m.version} x${m.weight.toFixed(2)}`).join(' + '),
    );

    const segmentation = await segmentAndFollow(api, image.id, (e) =>
      console.log(
        `  #${e.seq} ${e.stage.padEnd(13)} ${e.status.padEnd(9)} ${(e.progress * 100).toFixed(0).padStart(3)}%` +
          (e.model
            ? ` ${e.model}@${e.version} on ${e.device?.kind}${e.device?.index != null ? `:${e.device.index}` : ''}`
            : '') +
          (e.message ? ` (${e.message})` : ''),
      ),
    );
    console.log(
      `segmented: severity ${segmentation.severity}, lesion ${segmentation.metrics.areaPercent.toFixed(1)}% of the image, ` +
        `circularity ${segmentation.metrics.circularity.toFixed(3)}\n  overlay: ${segmentation.overlayUrl}`,
    );
    console.log('example: ok');
  } finally {
    await api.close();
  }
}

main().catch((err: unknown) => {
  if (CombinedGraphQLErrors.is(err))
    for (const e of err.errors) console.error(`GraphQL error ${String(e.extensions?.code)}: ${e.message}`);
  else console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
