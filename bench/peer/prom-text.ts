/**
 * Reads the few figures the peer bench needs from a server's /metrics (Prometheus text exposition format).
 * prom-client only writes this format, it cannot read it back; the sample lines are simple enough to parse here.
 */

/** One sample line: `name{label="value",...} value [timestamp]`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n' };

/** The format's spellings of the special values (Number() reads none of `+Inf`, `-Inf`). */
function number(token: string, line: string): number {
  if (token === '+Inf' || token === 'Inf') return Infinity;
  if (token === '-Inf') return -Infinity;
  if (token === 'NaN') return NaN;
  const v = Number(token);
  if (token === '' || Number.isNaN(v)) throw new Error(`metrics: not a number in ${JSON.stringify(line)}`);
  return v;
}

/** `{a="x",b="y"}` from `at` (just after the name); returns the labels and where the value starts. */
function labels(line: string, at: number): { labels: Record<string, string>; end: number } {
  const out: Record<string, string> = {};
  const bad = () => new Error(`metrics: bad labels in ${JSON.stringify(line)}`);
  let i = at + 1;
  for (;;) {
    if (line[i] === '}') return { labels: out, end: i + 1 };
    const name = LABEL.exec(line.slice(i))?.[0];
    if (!name || line.slice(i + name.length, i + name.length + 2) !== '="') throw bad();
    i += name.length + 2;
    let value = '';
    while (line[i] !== '"') {
      if (i >= line.length) throw bad();
      if (line[i] === '\\') {
        const e = ESCAPES[line[i + 1]];
        if (e === undefined) throw bad();
        value += e;
        i += 2;
      } else value += line[i++];
    }
    out[name] = value;
    i++;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw bad();
  }
}

/** Every sample of an exposition; comments (# HELP, # TYPE) and blank lines are skipped, a malformed line throws. */
export function parsePromText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const name = NAME.exec(line)?.[0];
    if (!name) throw new Error(`metrics: no metric name in ${JSON.stringify(line)}`);
    const parsed = line[name.length] === '{' ? labels(line, name.length) : { labels: {}, end: name.length };
    const [value] = line.slice(parsed.end).trim().split(/\s+/); // a timestamp may follow
    samples.push({ name, labels: parsed.labels, value: number(value, line) });
  }
  return samples;
}

/** A histogram's total: the sum of its observations and how many there were. */
export interface HistogramTotal {
  sum: number;
  count: number;
}

/** The `_sum` and `_count` of a histogram over the series whose labels include `match` (all of them summed). */
export function histogramTotal(samples: Sample[], name: string, match: Record<string, string> = {}): HistogramTotal {
  const matches = (s: Sample) => Object.entries(match).every(([k, v]) => s.labels[k] === v);
  const total = (suffix: string) =>
    samples.filter((s) => s.name === `${name}${suffix}` && matches(s)).reduce((a, s) => a + s.value, 0);
  return { sum: total('_sum'), count: total('_count') };
}

/** What was observed between two reads of the same histogram. */
export const histogramDelta = (before: HistogramTotal, after: HistogramTotal): HistogramTotal => ({
  sum: after.sum - before.sum,
  count: after.count - before.count,
});
