import { countOf, formatMs } from '../../web/src/pages/admin/system/units';

it('formatMs: one decimal under 10 ms, whole milliseconds from there', () => {
  expect([0, 0.04, 1.26, 9.94, 9.96, 10, 68.4, 1234.5].map(formatMs)).toEqual([
    '0.0 ms',
    '0.0 ms',
    '1.3 ms',
    '9.9 ms',
    '10 ms',
    '10 ms',
    '68 ms',
    '1235 ms',
  ]);
});

it('countOf: singular for one, plural otherwise', () => {
  expect([0, 1, 2].map((n) => countOf(n, 'worker'))).toEqual(['0 workers', '1 worker', '2 workers']);
});
