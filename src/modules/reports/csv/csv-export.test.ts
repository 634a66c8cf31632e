import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { cellText, csvLine, neutralise } from './cells';
import { clinicalCsv, researchCsv } from './csv-export';
import type { ImageRow, MetricsRow } from './types';

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks).toString('utf8');
}

const at = (s: string) => new Date(s);
const hostileName = '=HYPERLINK("http://x","y")';

function imageRow(i: number, overrides: Partial<ImageRow> = {}): ImageRow {
  return {
    patient: { externalId: `P-${i}`, name: `Patient ${i}` },
    lesion: { id: `L-${i}`, bodySite: 'left forearm' },
    image: {
      id: `img-${i}`,
      fileName: `img-${i}.jpg`,
      takenAt: at('2026-01-02T03:04:05Z'),
      uploadedAt: at('2026-01-03T00:00:00.123Z'),
    },
    prediction: {
      label: 'nevus',
      confidence: 0.7,
      probabilities: [
        { label: 'melanoma', probability: 0.2 },
        { label: 'nevus', probability: 0.7 },
        { label: 'bkl', probability: 0.1 },
      ],
      models: [{ name: 'isic-classifier', version: '1.2.0', device: 'cpu' }],
      createdAt: at('2026-01-03T00:01:00Z'),
    },
    segmentation: {
      metrics: {
        areaPercent: 12.5,
        areaPixels: 8192,
        perimeterPixels: 401.25,
        circularity: 0.64,
        meanIntensity: 101.5,
        stdIntensity: -0.000001234,
      },
      severity: 'MODERATE',
      models: [
        { name: 'unet', version: '2.0.0', device: 'cuda:0' },
        { name: 'unet-small', version: '0.9.1' },
      ],
      createdAt: at('2026-01-03T00:02:00Z'),
    },
    ...overrides,
  };
}

describe('cells', () => {
  it('neutralises formula starts in text, never in numbers', () => {
    for (const s of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(neutralise(s)).toBe(`'${s}`);
    for (const s of ['1', 'a=b', ' =1', '', "'x"]) expect(neutralise(s)).toBe(s);
    expect(cellText(-0.5)).toBe('-0.5');
    expect(cellText('-0.5')).toBe("'-0.5");
    expect(cellText(NaN)).toBe('');
    expect(cellText(null)).toBe('');
    expect(cellText(at('2026-01-02T03:04:05Z'))).toBe('2026-01-02T03:04:05.000Z');
  });

  it('quotes as RFC 4180 says, and a lone LF or CR too (unquoted, a reader ends the row there)', () => {
    const cells = ['a,b', 'say "hi"', 'two\nlines', 'cr\ronly', 'plain', ''];
    expect(csvLine(cells)).toBe('"a,b","say ""hi""","two\nlines","cr\ronly",plain,\r\n');
    const next = ['x', 'y', 'z', 'w', 'v', 'u'];
    expect(parse(csvLine(cells) + csvLine(next))).toEqual([cells, next]);
  });
});

describe('clinicalCsv', () => {
  it('parses back to the input values, with a header from the labels present', async () => {
    const tricky: ImageRow = imageRow(2, {
      patient: { externalId: 'P,2 "quoted"', name: 'Zoë Ünïcødé ✓\nsecond line\r\nthird' },
      lesion: { id: 'L-2', bodySite: 'back, upper "left"' },
    });
    const out = await text(clinicalCsv([imageRow(1), tricky]));
    expect(out.startsWith('\ufeff')).toBe(true);
    const records = parse(out, { bom: true, columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0])).toEqual([
      'patient_external_id',
      'patient_name',
      'lesion_id',
      'lesion_body_site',
      'image_id',
      'image_file_name',
      'taken_at',
      'uploaded_at',
      'predicted_at',
      'label',
      'confidence',
      'abstained',
      'flags',
      'p_melanoma',
      'p_nevus',
      'p_bkl',
      'other_probabilities',
      'area_percent',
      'area_pixels',
      'perimeter_pixels',
      'circularity',
      'mean_intensity',
      'std_intensity',
      'severity',
      'segmented_at',
      'classification_models',
      'segmentation_models',
    ]);
    expect(records).toHaveLength(2);
    const r = records[1];
    expect(r.patient_external_id).toBe(tricky.patient.externalId);
    expect(r.patient_name).toBe(tricky.patient.name);
    expect(r.lesion_body_site).toBe(tricky.lesion!.bodySite);
    expect(r.image_id).toBe('img-2');
    expect(new Date(r.taken_at)).toEqual(tricky.image.takenAt);
    expect(new Date(r.uploaded_at)).toEqual(tricky.image.uploadedAt);
    expect(r.label).toBe('nevus');
    expect(Number(r.confidence)).toBe(0.7);
    for (const p of tricky.prediction!.probabilities) expect(Number(r[`p_${p.label}`])).toBe(p.probability);
    const m = tricky.segmentation!.metrics;
    expect(Number(r.area_percent)).toBe(m.areaPercent);
    expect(Number(r.area_pixels)).toBe(m.areaPixels);
    expect(Number(r.perimeter_pixels)).toBe(m.perimeterPixels);
    expect(Number(r.circularity)).toBe(m.circularity);
    expect(Number(r.mean_intensity)).toBe(m.meanIntensity);
    // A negative number stays a number, not neutralised text.
    expect(r.std_intensity).toBe('-0.000001234');
    expect(Number(r.std_intensity)).toBe(m.stdIntensity);
    expect(r.severity).toBe('MODERATE');
    expect(r.classification_models).toBe('isic-classifier@1.2.0 (cpu)');
    expect(r.segmentation_models).toBe('unet@2.0.0 (cuda:0); unet-small@0.9.1');
    expect(r.other_probabilities).toBe('');
  });

  it('makes a formula-shaped patient name inert', async () => {
    const out = await text(
      clinicalCsv([
        imageRow(1, { patient: { externalId: '+41 79', name: hostileName }, lesion: { id: '@L', bodySite: '-x' } }),
      ]),
    );
    const [r] = parse(out, { bom: true, columns: true }) as Record<string, string>[];
    expect(r.patient_name).toBe(`'${hostileName}`);
    expect(r.patient_external_id).toBe("'+41 79");
    expect(r.lesion_id).toBe("'@L");
    expect(r.lesion_body_site).toBe("'-x");
    // No cell of the raw file starts with a formula character.
    const cells = (parse(out, { bom: true }) as string[][]).flat();
    for (const c of cells) if (!/^-?\d/.test(c)) expect(c).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('leaves holes empty for images without results and keeps unknown labels', async () => {
    const bare = imageRow(3, { prediction: null, segmentation: null, lesion: null });
    const odd = imageRow(4);
    odd.prediction = {
      ...odd.prediction!,
      probabilities: [...odd.prediction!.probabilities, { label: 'scc', probability: 0 }],
    };
    const out = await text(clinicalCsv([bare, imageRow(1), odd], { bom: false }));
    expect(out.startsWith('patient_external_id,')).toBe(true);
    const records = parse(out, { columns: true }) as Record<string, string>[];
    expect(records[0]).toMatchObject({ label: '', p_nevus: '', area_percent: '', severity: '', lesion_id: '' });
    expect(records[2].other_probabilities).toBe('scc=0');
    const fixed = parse(await text(clinicalCsv([bare], { labels: ['a', 'b'] })), { bom: true, columns: true });
    expect(Object.keys((fixed as Record<string, string>[])[0])).toContain('p_b');
  });

  it('streams 30 000 rows from an async source with backpressure', async () => {
    const total = 30_000;
    let produced = 0;
    async function* source(): AsyncGenerator<ImageRow> {
      for (let i = 0; i < total; i++) {
        produced++;
        yield imageRow(i);
      }
    }
    const stream = clinicalCsv(source());
    // Nobody reads: only a bounded look-ahead is pulled from the source.
    await new Promise((r) => setTimeout(r, 50));
    expect(produced).toBeLessThan(2000);
    let parsed = 0;
    let maxAhead = 0;
    let last: string[] = [];
    await pipeline(
      stream,
      parseStream({ bom: true, from_line: 2 }),
      new Writable({
        objectMode: true,
        highWaterMark: 1,
        write(rec: string[], _enc, cb) {
          parsed++;
          maxAhead = Math.max(maxAhead, produced - parsed);
          last = rec;
          if (parsed % 10_000 === 0) setTimeout(cb, 1);
          else cb();
        },
      }),
    );
    expect(parsed).toBe(total);
    expect(produced).toBe(total);
    expect(maxAhead).toBeLessThan(5000);
    expect(last[0]).toBe(`P-${total - 1}`);
  });
});

describe('researchCsv', () => {
  const row: MetricsRow = {
    id: 'h-seg',
    subject: 'h-pat',
    image: 'h-img',
    createdAt: at('2026-02-01T10:00:00Z'),
    modelVersions: ['unet@2.0.0', 'isic-classifier@1.2.0'],
    metrics: {
      areaPercent: 3.25,
      areaPixels: 100,
      perimeterPixels: 40,
      circularity: 0.79,
      meanIntensity: 80,
      stdIntensity: 5.5,
      dice: null,
      jaccard: 0.5,
    },
    severity: 'LOW',
    label: '=cmd|calc',
    confidence: 0.9,
    malignant: false,
    abstained: true,
    flags: ['LOW_MARGIN', 'BLURRED'],
  };

  it('writes de-identified rows that parse back', async () => {
    async function* rows() {
      yield row;
      yield { ...row, id: 'h-2', label: null, confidence: null, malignant: null, abstained: null, flags: [] };
    }
    const out = await text(researchCsv(rows()));
    const records = parse(out, { columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({
      id: 'h-seg',
      subject: 'h-pat',
      image: 'h-img',
      created_at: '2026-02-01T10:00:00.000Z',
      area_percent: '3.25',
      area_pixels: '100',
      perimeter_pixels: '40',
      circularity: '0.79',
      mean_intensity: '80',
      std_intensity: '5.5',
      dice: '',
      jaccard: '0.5',
      severity: 'LOW',
      label: "'=cmd|calc",
      confidence: '0.9',
      malignant: 'false',
      abstained: 'true',
      flags: 'LOW_MARGIN; BLURRED',
      model_versions: 'unet@2.0.0; isic-classifier@1.2.0',
    });
    expect(records[1]).toMatchObject({ id: 'h-2', label: '', confidence: '', malignant: '', abstained: '', flags: '' });
    expect(out).not.toMatch(/name|external/i);
  });
});
