import { describe, expect, it } from 'vitest';
import {
  GroundTruthFormatError,
  groundTruthFormatOf,
  groundTruthTable,
  parseGroundTruth,
} from '../../src/domain/ground-truth.js';

describe('parseGroundTruth', () => {
  it('reads RFC 4180 CSV: quotes, doubled quotes, commas and newlines inside quotes, CRLF, BOM', () => {
    const text = '\uFEFFdocument_id,notes\r\ndoc-1,"a, ""quoted""\nline"\r\ndoc-2,plain\r\n';
    expect(parseGroundTruth(text, 'csv')).toEqual([
      { document_id: 'doc-1', notes: 'a, "quoted"\nline' },
      { document_id: 'doc-2', notes: 'plain' },
    ]);
  });

  it('reads JSONL and skips blank lines', () => {
    expect(
      parseGroundTruth('{"document_id":"d","codes":["I10"]}\n\n{"document_id":"e"}\n', 'jsonl'),
    ).toHaveLength(2);
  });

  it('says where a file is broken', () => {
    expect(() => parseGroundTruth('a,b\n1,2,3\n', 'csv')).toThrow(/record 2: 3 fields/);
    expect(() => parseGroundTruth('a,a\n1,2\n', 'csv')).toThrow(/repeats column a/);
    expect(() => parseGroundTruth('a\n"open', 'csv')).toThrow(GroundTruthFormatError);
    expect(() => parseGroundTruth('{"a":1}\n[1]\n', 'jsonl')).toThrow(/line 2: must be a JSON object/);
    expect(() => parseGroundTruth('{"a":1}\n{oops\n', 'jsonl')).toThrow(/line 2: not JSON/);
    expect(() => parseGroundTruth('', 'csv')).toThrow(/no header/);
  });

  it('knows the format by the name', () => {
    expect(groundTruthFormatOf('gt/v3.CSV')).toBe('csv');
    expect(groundTruthFormatOf('gt/v3.jsonl')).toBe('jsonl');
    expect(() => groundTruthFormatOf('gt/v3.xlsx')).toThrow(/must end in/);
  });
});

describe('groundTruthTable', () => {
  it('finds rows by any column, trimmed, first row winning', () => {
    const table = groundTruthTable('v', [
      { id: ' a ', n: 1 },
      { id: 'a', n: 2 },
      { id: 7, n: 3 },
    ]);
    expect(table.find('id', 'a')?.n).toBe(1);
    expect(table.find('id', '7')?.n).toBe(3);
    expect(table.find('id', 'zz')).toBeUndefined();
    expect(table.find('missing', 'a')).toBeUndefined();
  });
});
