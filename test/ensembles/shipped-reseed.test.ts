import { Role } from '../../src/entities';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { FIRST_DEFAULT_SEED } from '../../migrations/Migration20261204100000_default_classifier_gap';
import { EQ } from './helpers';

/**
 * Migration 20261204100000 on a database seeded before it: `default-classifier` still as first seeded
 * (the two classifiers averaged) becomes dg-gap-classifier alone and `gap-mlp-average` is added; an
 * admin's own default and an existing `gap-mlp-average` are left as they are. Run through the real
 * migrator on the test's own database (down to the state before, then up).
 */
const NAME = 'Migration20261204100000_default_classifier_gap';
let server: TestServer;
let alice: SignedInUser;

beforeAll(async () => {
  server = await startTestServer({ env: { JOB_MODE: 'inline' } });
  alice = await createSignedInUser(server, { role: Role.CLINICIAN });
}, 60_000);

afterAll(() => server?.close());

const migrator = () => server.services.db.orm.getMigrator();
const sql = (text: string, params: unknown[] = []) =>
  server.services.db.orm.em.fork().getConnection().execute(text, params);
const listed = async () =>
  ((await server.gql<any>(EQ.list, {}, alice.token)).data.classificationEnsembles as any[]).map((e) => [
    e.name,
    e.members.map((m: any) => [m.model, m.version, m.weight]),
  ]);

const GAP = ['dg-gap-classifier', null, 1];
const MLP = ['dg-mlp-classifier', null, 1];

it('rewrites the first seed of default-classifier and adds gap-mlp-average; down restores the first seed', async () => {
  expect(await listed()).toEqual([
    ['default-classifier', [GAP]],
    ['gap-mlp-average', [GAP, MLP]],
  ]);
  await migrator().down({ migrations: [NAME] });
  // As a database migrated before this one: the pair as the default, no gap-mlp-average.
  expect(await listed()).toEqual([['default-classifier', [GAP, MLP]]]);
  const [row] = await sql(`select description from classification_ensembles where name = 'default-classifier'`);
  expect(row.description).toBe(FIRST_DEFAULT_SEED.description);
  await migrator().up({ migrations: [NAME] });
  expect(await listed()).toEqual([
    ['default-classifier', [GAP]],
    ['gap-mlp-average', [GAP, MLP]],
  ]);
  const [d] = await sql(
    `select description, updated_by from classification_ensembles where name = 'default-classifier'`,
  );
  expect(d).toMatchObject({ description: expect.stringMatching(/^dg-gap-classifier alone/), updated_by: null });
}, 60_000);

it('leaves an admin’s own default-classifier and an existing gap-mlp-average alone', async () => {
  await migrator().down({ migrations: [NAME] });
  // An admin changed the default's weights and made an ensemble of that name before the upgrade.
  await sql(`update classification_ensembles set members = ?::jsonb, updated_by = 'admin-1' where name = ?`, [
    JSON.stringify([
      { model: 'dg-mlp-classifier', version: null, weight: 2 },
      { model: 'dg-gap-classifier', version: null, weight: 1 },
    ]),
    'default-classifier',
  ]);
  await sql(
    `insert into classification_ensembles (id, created_at, updated_at, name, members, updated_by)
     values (gen_random_uuid(), now(), now(), 'gap-mlp-average', ?::jsonb, 'admin-1')`,
    [JSON.stringify([{ model: 'dg-mlp-classifier', version: '1.0.0', weight: 1 }])],
  );
  const before = await listed();
  await migrator().up({ migrations: [NAME] });
  expect(await listed()).toEqual(before);
  expect(before).toEqual([
    [
      'default-classifier',
      [
        ['dg-mlp-classifier', null, 2],
        ['dg-gap-classifier', null, 1],
      ],
    ],
    ['gap-mlp-average', [['dg-mlp-classifier', '1.0.0', 1]]],
  ]);
}, 60_000);
