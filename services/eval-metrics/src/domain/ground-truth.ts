/**
 * Ground truth as rows of named columns, parsed from a CSV (RFC 4180: quoted fields, doubled quotes,
 * newlines inside quotes) or a JSONL version, and looked up by the spec's match columns.
 */

export type GroundTruthRow = Readonly<Record<string, unknown>>;

export class GroundTruthFormatError extends Error {
  override readonly name = 'GroundTruthFormatError';
}

export interface GroundTruthTable {
  /** The version (the object key or URI the LATEST pointer named). */
  readonly version: string;
  readonly rows: readonly GroundTruthRow[];
  /** The row whose `column` holds `value` (compared as trimmed text); the first one if several do. */
  find(column: string, value: string): GroundTruthRow | undefined;
}

export function groundTruthTable(version: string, rows: readonly GroundTruthRow[]): GroundTruthTable {
  const indexes = new Map<string, Map<string, GroundTruthRow>>();
  const indexOf = (column: string) => {
    let index = indexes.get(column);
    if (!index) {
      index = new Map();
      for (const row of rows) {
        const key = cellText(row[column]);
        if (key !== '' && !index.has(key)) index.set(key, row);
      }
      indexes.set(column, index);
    }
    return index;
  };
  return { version, rows, find: (column, value) => indexOf(column).get(value.trim()) };
}

function cellText(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return '';
}

export function parseGroundTruth(text: string, format: 'csv' | 'jsonl'): GroundTruthRow[] {
  return format === 'csv' ? parseCsv(text) : parseJsonl(text);
}

/** Format by the object's name: `.jsonl`/`.ndjson` is JSONL, `.csv` is CSV. */
export function groundTruthFormatOf(key: string): 'csv' | 'jsonl' {
  const lower = key.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  throw new GroundTruthFormatError(`ground truth ${key}: name must end in .csv, .jsonl or .ndjson`);
}

function parseJsonl(text: string): GroundTruthRow[] {
  const rows: GroundTruthRow[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new GroundTruthFormatError(`line ${index + 1}: not JSON: ${(error as Error).message}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new GroundTruthFormatError(`line ${index + 1}: must be a JSON object`);
    rows.push(value as GroundTruthRow);
  }
  return rows;
}

function parseCsv(text: string): GroundTruthRow[] {
  const records = csvRecords(text.startsWith('\uFEFF') ? text.slice(1) : text);
  const header = records.shift();
  if (!header || header.every((name) => name.trim() === ''))
    throw new GroundTruthFormatError('CSV has no header line');
  const names = header.map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '') throw new GroundTruthFormatError('CSV header has an empty column name');
    if (seen.has(name)) throw new GroundTruthFormatError(`CSV header repeats column ${name}`);
    seen.add(name);
  }
  const rows: GroundTruthRow[] = [];
  for (const [index, record] of records.entries()) {
    if (record.length === 1 && record[0] === '') continue;
    if (record.length !== names.length)
      throw new GroundTruthFormatError(
        `CSV record ${index + 2}: ${record.length} fields where the header has ${names.length}`,
      );
    rows.push(Object.fromEntries(names.map((name, i) => [name, record[i]!])));
  }
  return rows;
}

/**
 * Fields are slices of `text`, joined only around an escaped quote: a field built a character at a
 * time is a chain of V8 cons strings several times the size of its text, kept for as long as the
 * table is cached.
 */
function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  // The field so far is `field` followed by text[runStart, i).
  let field = '';
  let runStart = 0;
  let quoted = false;
  let i = 0;
  const endField = () => {
    record.push(field + text.slice(runStart, i));
    field = '';
  };
  while (i < text.length) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"') {
        field += text.slice(runStart, i);
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
        runStart = i + 1;
      }
      i++;
      continue;
    }
    if (char === '"' && field === '' && runStart === i) {
      quoted = true;
      runStart = i + 1;
    } else if (char === ',') {
      endField();
      runStart = i + 1;
    } else if (char === '\n' || char === '\r') {
      endField();
      records.push(record);
      record = [];
      if (char === '\r' && text[i + 1] === '\n') i++;
      runStart = i + 1;
    }
    i++;
  }
  if (quoted) throw new GroundTruthFormatError('CSV ends inside a quoted field');
  if (field !== '' || runStart < text.length || record.length > 0) {
    endField();
    records.push(record);
  }
  return records;
}
