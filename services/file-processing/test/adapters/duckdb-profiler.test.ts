import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileCsvFile } from '../../src/adapters/duckdb-profiler.js';
import { parseDqdl } from '../../src/domain/dqdl.js';
import { measurementRequestsFor } from '../../src/domain/profile.js';
import { evaluateRuleset } from '../../src/domain/rule-evaluation.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'fp-profiler-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const options = () => ({ memoryLimit: '128MB', threads: 1, tempRoot: directory, rejectedRowsListed: 100 });

async function profileOf(name: string, content: string | Buffer, dqdl = 'Rules = []') {
  const path = join(directory, name);
  await writeFile(path, content);
  const ruleset = parseDqdl(dqdl);
  const profile = await profileCsvFile(path, measurementRequestsFor(ruleset), options());
  return { profile, results: evaluateRuleset(ruleset, profile) };
}

describe('profileCsvFile', () => {
  it('profiles columns: types, nulls, empties, distinct counts, min/max, duplicates', async () => {
    const { profile } = await profileOf(
      'basic.csv',
      'id,name,joined,score\n1,Ann,2024-01-05,3.5\n2,"",2024-02-01,\n3,Cy,2023-12-31,10\n3,Cy,2023-12-31,10\n',
    );
    expect(profile).toMatchObject({
      rowCount: 4,
      columnCount: 4,
      duplicateRowCount: 1,
      malformedRowCount: 0,
      dialect: { delimiter: ',', hasHeader: true, newline: '\n', byteOrderMark: false },
    });
    const [id, name, joined, score] = profile.columns;
    expect(id).toMatchObject({ name: 'id', inferredType: 'BIGINT', dataType: 'INTEGER', min: '1', max: '3' });
    expect(id?.approxDistinctCount).toBe(3);
    expect(name).toMatchObject({ dataType: 'STRING', emptyCount: 1, nullCount: 0, emptyRate: 0.25 });
    expect(joined).toMatchObject({ dataType: 'DATE', min: '2023-12-31', max: '2024-02-01' });
    expect(score).toMatchObject({
      dataType: 'DOUBLE',
      nullCount: 1,
      nullRate: 0.25,
      min: '3.5',
      max: '10.0',
    });
  });

  it('keeps quoted newlines inside a value and reads CRLF and a BOM', async () => {
    const { profile } = await profileOf('crlf.csv', '\uFEFFid,note\r\n1,"first\r\nsecond"\r\n2,plain\r\n');
    expect(profile.rowCount).toBe(2);
    expect(profile.dialect).toMatchObject({ newline: '\r\n', byteOrderMark: true, hasHeader: true });
    expect(profile.columns.map((column) => column.name)).toEqual(['id', 'note']);
    expect(profile.columns[1]?.max).toBe('plain');
  });

  it.each([
    ['semicolon', ';'],
    ['tab', '\t'],
  ])('sniffs a %s delimiter', async (_name, delimiter) => {
    const { profile } = await profileOf(
      `delimited-${_name}.csv`,
      ['a', 'b', 'c'].join(delimiter) +
        '\n' +
        ['1', 'x', '2.5'].join(delimiter) +
        '\n' +
        ['2', 'y', '3'].join(delimiter) +
        '\n',
    );
    expect(profile.dialect?.delimiter).toBe(delimiter);
    expect(profile.columnCount).toBe(3);
    expect(profile.rowCount).toBe(2);
  });

  it('rejects ragged rows with their physical line numbers, after a quoted newline', async () => {
    const { profile } = await profileOf(
      'ragged.csv',
      'id,name,city\n1,"two\nlines",x\n2,b\n3,c,y,extra\n4,d,z\n',
    );
    expect(profile.rowCount).toBe(2);
    expect(profile.malformedRowCount).toBe(2);
    expect(profile.malformedRows).toEqual([
      expect.objectContaining({ line: 4, errorType: 'MISSING_COLUMNS' }),
      expect.objectContaining({ line: 5, errorType: 'TOO_MANY_COLUMNS' }),
    ]);
  });

  it('counts every malformed row but lists only the first ones', async () => {
    const path = join(directory, 'many-bad.csv');
    await writeFile(path, 'a,b\n1,2\n3\n4,5,6\n7\n8,9\n');
    const profile = await profileCsvFile(path, [], { ...options(), rejectedRowsListed: 2 });
    expect(profile).toMatchObject({ rowCount: 2, malformedRowCount: 3, malformedRowsTruncated: true });
    expect(profile.malformedRows.map((row) => row.line)).toEqual([3, 4]);
  });

  it('reports bytes that are not UTF-8 as encoding problems on their line', async () => {
    const { profile } = await profileOf(
      'latin1.csv',
      Buffer.concat([Buffer.from('id,name\n1,Ann\n2,Caf'), Buffer.from([0xe9]), Buffer.from('\n3,Bo\n')]),
    );
    expect(profile.rowCount).toBe(2);
    expect(profile.encodingProblemCount).toBe(1);
    expect(profile.malformedRows).toEqual([
      expect.objectContaining({ line: 3, errorType: 'INVALID_ENCODING' }),
    ]);
  });

  it('profiles an empty file and a header-only file as zero rows', async () => {
    const empty = await profileOf('empty.csv', '');
    expect(empty.profile).toMatchObject({ bytes: 0, rowCount: 0, columnCount: 0, dialect: null });
    const headerOnly = await profileOf(
      'header.csv',
      'id,name,city\n',
      'Rules = [ RowCount > 0, ColumnCount = 3 ]',
    );
    expect(headerOnly.profile).toMatchObject({ rowCount: 0, columnCount: 3 });
    expect(headerOnly.results.map((result) => result.outcome)).toEqual(['failed', 'passed']);
  });

  it('measures what ColumnValues, Uniqueness and IsUnique rules ask for', async () => {
    const { results } = await profileOf(
      'rules.csv',
      'id,state,age,email\n1,NM,34,a@x.org\n2,TX,17,b@x.org\n3,NM,150,not-an-email\n4,,40,a@x.org\n',
      `Rules = [
        IsUnique "id",
        Uniqueness "email" = 0.5,
        IsUnique "email",
        ColumnValues "state" in ["NM", "TX"],
        ColumnValues "state" in ["NM", "TX", NULL],
        ColumnValues "age" between 0 and 120 with threshold >= 0.75,
        ColumnValues "email" matches "[^@]+@[^@]+" with threshold = 0.75,
        ColumnValues "age" > 18,
        ColumnDataType "age" = "INTEGER",
        Completeness "state" = 0.75
      ]`,
    );
    expect(results.map((result) => [result.outcome, result.observed])).toEqual([
      ['passed', 1],
      ['passed', 0.5],
      ['failed', 0.5],
      ['failed', 0.75],
      ['passed', 1],
      ['passed', 0.75],
      ['passed', 0.75],
      ['failed', 0.75],
      ['passed', 'INTEGER'],
      ['passed', 0.75],
    ]);
  });

  it('downgrades a column whose later values do not fit the sampled type to STRING', async () => {
    const lines = ['n'];
    for (let i = 0; i < 30_000; i++) lines.push(String(i));
    lines.push('not-a-number');
    const { profile } = await profileOf('late-type.csv', `${lines.join('\n')}\n`);
    expect(profile.columns[0]).toMatchObject({
      inferredType: 'BIGINT',
      dataType: 'STRING',
      typeMismatchCount: 1,
    });
  });
});
