/** Reading the dataset copy at datasets/isic-uda1 and the committed split (training/splits.json). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface LabelRow {
  id: string;
  label: 'benign' | 'malignant';
}

/** The `isic_id` and `benign_malignant` columns of labels.csv, in file order. */
export async function readLabels(datasetDir: string): Promise<LabelRow[]> {
  const text = await readFile(path.join(datasetDir, 'labels.csv'), 'utf8');
  const [header, ...lines] = text.trim().split(/\r?\n/);
  const cols = header.split(',');
  const idCol = cols.indexOf('isic_id');
  const labelCol = cols.indexOf('benign_malignant');
  if (idCol < 0 || labelCol < 0) throw new Error(`labels.csv lacks isic_id or benign_malignant: ${header}`);
  return lines.map((line) => {
    const cells = line.split(',');
    const label = cells[labelCol];
    if (label !== 'benign' && label !== 'malignant') throw new Error(`unknown label "${label}" in: ${line}`);
    return { id: cells[idCol], label };
  });
}

export interface Splits {
  seed: number;
  train: string[];
  validation: string[];
  test: string[];
}

export async function readSplits(file = 'training/splits.json'): Promise<Splits> {
  return JSON.parse(await readFile(file, 'utf8')) as Splits;
}
