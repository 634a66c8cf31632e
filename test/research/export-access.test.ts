import { AuditLog, Role } from '../../src/entities';
import { RESEARCH_EXPORT_KIND, ResearchExportLinks } from '../../src/modules/research/research-export';
import { signedUrl } from '../../src/infra/storage/signed-urls';
import { seedSegmentation } from '../support/results';
import { startTestServer, type TestServer } from '../support/server';
import { createSignedInUser, type SignedInUser } from '../support/users';
import { createPatient, errorCode, fixture, JPEGS, uploadImages } from '../patients/helpers';
import { EXPORT, exportUrl, fetchText, local, records } from './helpers';

const member = { model: 'dg-unet', version: '1.0.0', requested: 'cpu', device: 'cpu', weight: 1 };

/**
 * Who may export and with what link: researchers and admins only; the link is refused when any byte
 * of it changed, when it expired, and when its owner was demoted or disabled after getting it.
 * Garbage filters are BAD_USER_INPUT; minting and fetching leave audit rows.
 */
describe('de-identified CSV export: access', () => {
  let server: TestServer;
  let admin: SignedInUser;
  let researcher: SignedInUser;
  let clinician: SignedInUser;

  const refusal = async (url: string) => {
    const res = await fetchText(url);
    return { status: res.status, type: res.headers.get('content-type'), body: JSON.parse(res.text) };
  };
  const forbidden = (message: RegExp) => ({
    status: 403,
    type: expect.stringMatching(/^application\/json/),
    body: { errors: [{ message: expect.stringMatching(message), extensions: { code: 'FORBIDDEN' } }] },
  });
  const setUser = async (mutation: string, vars: Record<string, unknown>) => {
    const res = await server.gql(`mutation($u: ID!, $v: ${mutation}`, vars, admin.token);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
  };

  beforeAll(async () => {
    server = await startTestServer();
    admin = await createSignedInUser(server, { role: Role.ADMIN });
    researcher = await createSignedInUser(server, { role: Role.RESEARCHER });
    clinician = await createSignedInUser(server, { role: Role.CLINICIAN });
    const patientId = await createPatient(server, clinician.token);
    const up = await uploadImages(server, clinician.token, { patientId }, [{ name: 'a.jpg', data: fixture(JPEGS[0]) }]);
    const em = server.services.db.orm.em.fork();
    for (let i = 0; i < 3; i++)
      seedSegmentation(em, {
        owner: clinician.id,
        imageId: up.data.uploadImages[0].id,
        patientId,
        members: [member],
        at: new Date(Date.UTC(2026, 0, 1 + i)),
      });
    await em.flush();
  });

  afterAll(() => server.close());

  it('is for researchers and admins: a clinician gets FORBIDDEN, no caller UNAUTHENTICATED', async () => {
    const res = await server.gql<any>(EXPORT, {}, clinician.token);
    expect([res.data, errorCode(res)]).toEqual([null, 'FORBIDDEN']);
    const anon = await server.gql<any>(EXPORT, {});
    expect([anon.data, errorCode(anon)]).toEqual([null, 'UNAUTHENTICATED']);
    for (const user of [researcher, admin]) {
      const ok = await server.gql<any>(EXPORT, {}, user.token);
      const { url, expiresAt } = ok.data.exportLesionMetricsCsv;
      const ttl = server.config.SIGNED_URL_TTL_SECONDS * 1000;
      expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now() + ttl - 2000);
      expect(new Date(expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 2 * ttl + 1000);
      expect(url).toMatch(
        /^http:\/\/127\.0\.0\.1:4000\/files\/research-exports\/[^/]+\/lesion-metrics-[\d-]{10}\.csv\?/,
      );
      expect(records((await fetchText(local(server, url))).text)).toHaveLength(3);
    }
  });

  it('refuses garbage filters with BAD_USER_INPUT (or the validation error) and mints nothing', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ version: '1.0.0' }, 200, 'BAD_USER_INPUT'],
      [{ since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' }, 200, 'BAD_USER_INPUT'],
      [{ model: 'm'.repeat(201) }, 200, 'BAD_USER_INPUT'],
      [{ model: 'm', label: 'l'.repeat(5000) }, 200, 'BAD_USER_INPUT'],
      [{ severity: 'CATASTROPHIC' }, 400, 'BAD_USER_INPUT'],
      [{ since: 'yesterday' }, 400, 'BAD_USER_INPUT'],
      [{ model: 42 }, 400, 'BAD_USER_INPUT'],
      ['everything', 400, 'BAD_USER_INPUT'],
      [{ patientName: 'x' }, 400, 'BAD_USER_INPUT'],
    ];
    for (const [f, status, code] of cases) {
      const res = await server.gql<any>(EXPORT, { f }, researcher.token);
      expect([f, res.status, errorCode(res), res.data?.exportLesionMetricsCsv ?? null]).toEqual([
        f,
        status,
        code,
        null,
      ]);
    }
    // A filter at the limits is fine, and matches nothing.
    const edge = await exportUrl(server, researcher.token, { model: 'm'.repeat(200), version: 'v'.repeat(200) });
    expect(records((await fetchText(edge)).text)).toEqual([]);
    expect((await fetchText(edge)).text).toMatch(/^id,subject,image,created_at,/);
  });

  it('refuses a link with any part changed, in the API’s JSON error shape', async () => {
    const url = new URL(await exportUrl(server, researcher.token));
    const [, , , token, file] = url.pathname.split('/');
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    const withPath = (t: string, f: string) => `${url.origin}/files/research-exports/${t}/${f}${url.search}`;
    const sig = url.searchParams.get('sig')!;
    const exp = url.searchParams.get('exp')!;
    const tampered = [
      withPath(flip(token, 40), file),
      withPath(flip(token, token.length - 3), file),
      withPath(token, 'lesion-metrics-2020-01-01.csv'),
      withPath(token, 'export.csv'),
      url.href.replace(`sig=${sig}`, `sig=${flip(sig, 5)}`),
      url.href.replace(`exp=${exp}`, `exp=${Number(exp) + 3600}`),
      url.href.replace(`&sig=${sig}`, ''),
      `${url.origin}${url.pathname}`,
      withPath('x', file),
    ];
    for (const t of tampered) expect([t, await refusal(t)]).toEqual([t, forbidden(/Invalid signature/)]);
    // A token that is not ours under a valid signature (what a changed secret would look like) is refused too.
    const foreignBox = new ResearchExportLinks({ secret: 'another-secret', publicUrl: url.origin, ttlSeconds: 300 });
    const foreignToken = new URL(foreignBox.mint(researcher.id, null, (id) => id).url).pathname.split('/')[3];
    for (const id of [decodeURIComponent(foreignToken), 'v1.x.y.z.w', 'not-a-token']) {
      const t = { kind: RESEARCH_EXPORT_KIND, id, variant: file };
      const signed = signedUrl(url.origin, server.config.URL_SIGNING_SECRET, t, 300);
      expect(await refusal(signed)).toEqual(forbidden(/Invalid signature/));
    }
    // The untouched link still works.
    expect((await fetchText(url.href)).status).toBe(200);
  });

  it('refuses an expired link', async () => {
    const { config } = server;
    const past = Date.now() - 3 * config.SIGNED_URL_TTL_SECONDS * 1000;
    const links = new ResearchExportLinks(
      { secret: config.URL_SIGNING_SECRET, publicUrl: new URL(server.url).origin, ttlSeconds: 300 },
      () => past,
    );
    const minted = links.mint(researcher.id, null, (id) => id);
    expect(minted.expiresAt.getTime()).toBeLessThan(Date.now());
    expect(await refusal(minted.url)).toEqual(forbidden(/expired/));
  });

  it('stops a link working once its owner is demoted or disabled, and works again when restored', async () => {
    const owner = await createSignedInUser(server, { role: Role.RESEARCHER });
    const url = await exportUrl(server, owner.token);
    expect((await fetchText(url)).status).toBe(200);
    await setUser('Role!) { setUserRole(userId: $u, role: $v) { id } }', { u: owner.id, v: 'CLINICIAN' });
    expect(await refusal(url)).toEqual(forbidden(/no longer export/));
    await setUser('Role!) { setUserRole(userId: $u, role: $v) { id } }', { u: owner.id, v: 'ADMIN' });
    expect((await fetchText(url)).status).toBe(200);
    await setUser('Boolean!) { setUserDisabled(userId: $u, disabled: $v) { id } }', { u: owner.id, v: true });
    expect(await refusal(url)).toEqual(forbidden(/no longer export/));
  });

  it('answers HEAD with the download’s headers and no rows', async () => {
    const res = await fetch(await exportUrl(server, researcher.token), { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="lesion-metrics-/);
    expect(await res.text()).toBe('');
  });

  it('audits each link handed out and each fetch, allowed or refused', async () => {
    const owner = await createSignedInUser(server, { role: Role.RESEARCHER });
    const url = await exportUrl(server, owner.token, { severity: 'MODERATE', label: 'nevus' });
    await fetchText(url);
    await setUser('Role!) { setUserRole(userId: $u, role: $v) { id } }', { u: owner.id, v: 'CLINICIAN' });
    await fetchText(url);
    const em = server.services.db.orm.em.fork();
    const minted = await em.find(AuditLog, { action: 'RESEARCH_EXPORTED', actorId: owner.id });
    expect(minted).toHaveLength(1);
    expect(minted[0]).toMatchObject({ success: true, details: { filter: { severity: 'MODERATE', label: 'nevus' } } });
    const exportName = (minted[0].details as { export: string }).export;
    expect(exportName).toMatch(/^[\w~][\w-]{21}$/);
    const fetched = await em.find(
      AuditLog,
      { action: 'RESEARCH_EXPORT_DOWNLOADED', actorId: owner.id },
      { orderBy: { createdAt: 'asc' } },
    );
    expect(fetched.map((r) => [r.success, (r.details as any).export, (r.details as any).error ?? null])).toEqual([
      [true, exportName, null],
      [false, exportName, 'FORBIDDEN'],
    ]);
    expect(fetched[0].ip).toBeTruthy();
    // A clinician's refused call leaves no row (refused before the resolver, as every audited call).
    await server.gql(EXPORT, {}, clinician.token);
    expect(await em.count(AuditLog, { action: 'RESEARCH_EXPORTED', actorId: clinician.id })).toBe(0);
  });
});
