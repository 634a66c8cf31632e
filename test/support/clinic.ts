import { Role } from '../../src/entities';
import { createPatient } from '../patients/helpers';
import { multipart, type UploadFile } from '../patients/multipart';
import { startTestServer, type TestServer } from './server';
import { createSignedInUser, type SignedInUser } from './users';

/**
 * One server for the tests of a file (or a describe) that upload and classify as a clinician: jobs run
 * in the request (JOB_MODE inline, unless `env` says otherwise), one signed-in clinician and one patient
 * of theirs. Started before the tests, closed after them; read the fields inside tests and hooks.
 */
export function clinicServer(env: Record<string, string> = {}) {
  const c = {
    server: undefined as unknown as TestServer,
    clinician: undefined as unknown as SignedInUser,
    patientId: '',
    /** A multipart operation as the clinician: `$p` is the patient, `files` fill `$f` (more in `variables`). */
    upload: (query: string, files: UploadFile[], variables: Record<string, unknown> = {}) =>
      multipart(c.server, c.clinician.token, query, { p: c.patientId, ...variables }, files, 'f'),
  };
  beforeAll(async () => {
    c.server = await startTestServer({ env: { JOB_MODE: 'inline', ...env } });
    c.clinician = await createSignedInUser(c.server, { role: Role.CLINICIAN });
    c.patientId = await createPatient(c.server, c.clinician.token);
  }, 60_000);
  afterAll(() => c.server?.close());
  return c;
}
