import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ValueCondition } from '../domain/dqdl.js';
import {
  type ColumnProfile,
  type CsvDialect,
  type CsvProfile,
  dqdlTypeOf,
  type Measurement,
  type MeasurementRequest,
  type RejectedRow,
} from '../domain/profile.js';

export interface DuckDbProfilerOptions {
  /** DuckDB's memory_limit for one profile, e.g. `512MB`. Past it DuckDB spills to `tempRoot`. */
  memoryLimit: string;
  threads: number;
  /** Where each profile gets its own spill directory (removed afterwards). */
  tempRoot: string;
  /** How many rejected rows the profile lists (all are counted). */
  rejectedRowsListed: number;
}

/** DuckDB's CSV sniffer output for the columns, as sniff_csv returns it. */
interface SniffedColumn {
  name: string;
  type: string;
}

const REJECTS_TABLE = 'csv_reject_errors';
const REJECTS_SCAN_TABLE = 'csv_reject_scans';

/**
 * Profiles a CSV file on disk with DuckDB. The file is never loaded into Node's memory: DuckDB streams
 * it, holds at most `memoryLimit` and spills the rest (distinct sets, rejects) to a temp directory.
 * Every value is read as text so no row is lost to a type guess; types are checked per value instead.
 */
export async function profileCsvFile(
  path: string,
  requests: MeasurementRequest[],
  options: DuckDbProfilerOptions,
): Promise<CsvProfile> {
  const bytes = (await stat(path)).size;
  if (bytes === 0) return emptyProfile(0, null);

  // DuckDB's native module loads with the first job, not with the listener (a start-up cost).
  const [{ DuckDBInstance }, spillDirectory] = await Promise.all([
    import('@duckdb/node-api'),
    mkdtemp(join(options.tempRoot, 'duckdb-')),
  ]);
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit,
    threads: String(options.threads),
    temp_directory: spillDirectory,
    // Aggregates need no row order; without it DuckDB streams with less memory.
    preserve_insertion_order: 'false',
  });
  const connection = await instance.connect();
  try {
    return await profileWith(connection, path, bytes, requests, options);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(spillDirectory, { recursive: true, force: true });
  }
}

async function profileWith(
  connection: DuckDBConnection,
  path: string,
  bytes: number,
  requests: MeasurementRequest[],
  options: DuckDbProfilerOptions,
): Promise<CsvProfile> {
  const sniffed = await sniff(connection, path);
  const { dialect, columns: sniffedColumns } = sniffed;
  dialect.byteOrderMark = await startsWithByteOrderMark(path);

  const source = readCsvCall(path, dialect, sniffedColumns);
  const column = (index: number) => quoteIdentifier((sniffedColumns[index] as SniffedColumn).name);

  // Duplicate rows by a 64-bit hash of the whole row, counted in the same pass as everything else, so
  // the file is parsed once.
  const rowHash = `hash(${sniffedColumns.map((_, index) => column(index)).join(', ')})`;
  const selects: string[] = [
    'count(*)::DOUBLE AS row_count',
    `count(DISTINCT ${rowHash})::DOUBLE AS distinct_rows`,
  ];
  sniffedColumns.forEach((sniffedColumn, index) => {
    const c = column(index);
    const typed = typedExpression(c, sniffedColumn.type, sniffed);
    selects.push(
      `count(*) FILTER (WHERE ${c} IS NULL)::DOUBLE AS null_${index}`,
      `count(*) FILTER (WHERE ${c} = '')::DOUBLE AS empty_${index}`,
      `approx_count_distinct(nullif(${c}, ''))::DOUBLE AS distinct_${index}`,
      typed === c
        ? `0::DOUBLE AS mismatch_${index}`
        : `count(*) FILTER (WHERE ${c} <> '' AND ${typed} IS NULL)::DOUBLE AS mismatch_${index}`,
      `min(${typed === c ? `nullif(${c}, '')` : typed})::VARCHAR AS min_${index}`,
      `max(${typed === c ? `nullif(${c}, '')` : typed})::VARCHAR AS max_${index}`,
    );
  });

  const known = new Map(sniffedColumns.map((sniffedColumn, index) => [sniffedColumn.name, index]));
  const valueRequests = requests.filter(
    (request): request is Extract<MeasurementRequest, { kind: 'values' }> =>
      request.kind === 'values' && known.has(request.column),
  );
  valueRequests.forEach((request, index) => {
    const c = quoteIdentifier(request.column);
    selects.push(
      `count(*) FILTER (WHERE ${valueConditionSql(c, request.condition)})::DOUBLE AS values_${index}`,
    );
  });

  const row = await firstRow(connection, `SELECT ${selects.join(',\n  ')} FROM ${source}`);
  const rowCount = row.row_count as number;
  const rate = (count: number) => (rowCount === 0 ? 0 : count / rowCount);
  const columns: ColumnProfile[] = sniffedColumns.map((sniffedColumn, index) => {
    const mismatches = row[`mismatch_${index}`] as number;
    const nullCount = row[`null_${index}`] as number;
    const emptyCount = row[`empty_${index}`] as number;
    return {
      name: sniffedColumn.name,
      inferredType: sniffedColumn.type,
      dataType: mismatches > 0 ? 'STRING' : dqdlTypeOf(sniffedColumn.type),
      nullCount,
      emptyCount,
      nullRate: rate(nullCount),
      emptyRate: rate(emptyCount),
      typeMismatchCount: mismatches,
      approxDistinctCount: row[`distinct_${index}`] as number,
      min: (row[`min_${index}`] as string | null) ?? null,
      max: (row[`max_${index}`] as string | null) ?? null,
    };
  });

  const measurements: Record<string, Measurement> = {};
  valueRequests.forEach((request, index) => {
    measurements[request.id] = {
      kind: 'values',
      satisfied: row[`values_${index}`] as number,
      total: rowCount,
    };
  });
  // Uniqueness needs a count per value: one more pass, only when a rule asks, grouping by every column
  // asked for at once (one grouping set each).
  const uniquenessColumns = [
    ...new Set(
      requests.flatMap((request) =>
        request.kind === 'uniqueness' && known.has(request.column) ? [request.column] : [],
      ),
    ),
  ];
  if (uniquenessColumns.length > 0) {
    const quoted = uniquenessColumns.map(quoteIdentifier);
    const setIndex = `CASE ${quoted.map((c, index) => `WHEN GROUPING(${c}) = 0 THEN ${index}`).join(' ')} END`;
    const reader = await connection.runAndReadAll(
      `SELECT set_index, count(*) FILTER (WHERE n = 1)::DOUBLE AS unique_values, count(*)::DOUBLE AS distinct_values
       FROM (SELECT ${setIndex} AS set_index, count(*) AS n
             FROM ${readCsvCall(path, dialect, sniffedColumns, false)}
             GROUP BY GROUPING SETS (${quoted.map((c) => `(${c})`).join(', ')})
             HAVING ${quoted.map((c) => `(GROUPING(${c}) = 0 AND ${c} IS NOT NULL)`).join(' OR ')})
       GROUP BY set_index`,
    );
    const counted = new Map(
      (
        reader.getRowObjectsJS() as { set_index: number; unique_values: number; distinct_values: number }[]
      ).map((row) => [uniquenessColumns[row.set_index] as string, row]),
    );
    for (const request of requests) {
      if (request.kind !== 'uniqueness' || !known.has(request.column)) continue;
      const column = counted.get(request.column);
      measurements[request.id] = {
        kind: 'uniqueness',
        uniqueValueCount: column?.unique_values ?? 0,
        distinctCount: column?.distinct_values ?? 0,
        total: rowCount,
      };
    }
  }

  const rejects = await rejectedRows(connection, path, dialect, options.rejectedRowsListed);
  return {
    bytes,
    dialect,
    rowCount,
    columnCount: sniffedColumns.length,
    columns,
    duplicateRowCount: rowCount - (row.distinct_rows as number),
    ...rejects,
    measurements,
  };
}

interface Sniffed {
  dialect: CsvDialect;
  columns: SniffedColumn[];
  dateFormat: string | null;
  timestampFormat: string | null;
}

async function sniff(connection: DuckDBConnection, path: string): Promise<Sniffed> {
  const row = await firstRow(
    connection,
    `SELECT Delimiter, Quote, Escape, NewLineDelimiter, HasHeader, Columns, DateFormat, TimestampFormat
     FROM sniff_csv(${quoteLiteral(path)}, ignore_errors = true)`,
  );
  const sniffedText = (value: unknown) => (value === '(empty)' || value == null ? '' : String(value));
  return {
    dialect: {
      delimiter: sniffedText(row.Delimiter),
      quote: sniffedText(row.Quote),
      escape: sniffedText(row.Escape),
      newline: sniffedText(row.NewLineDelimiter).replaceAll('\\r', '\r').replaceAll('\\n', '\n'),
      hasHeader: row.HasHeader === true,
      byteOrderMark: false,
    },
    columns: row.Columns as SniffedColumn[],
    dateFormat: sniffedText(row.DateFormat) || null,
    timestampFormat: sniffedText(row.TimestampFormat) || null,
  };
}

/**
 * read_csv with the sniffed dialect, every column as text and nothing guessed again. Rows that do not
 * fit (wrong field count, bad quoting, bytes that are not UTF-8) go to the rejects table with their line.
 */
function readCsvCall(
  path: string,
  dialect: CsvDialect,
  columns: SniffedColumn[],
  storeRejects = true,
): string {
  const columnTypes = columns.map((column) => `${quoteLiteral(column.name)}: 'VARCHAR'`).join(', ');
  const options = [
    `delim = ${quoteLiteral(dialect.delimiter)}`,
    `quote = ${quoteLiteral(dialect.quote)}`,
    `escape = ${quoteLiteral(dialect.escape)}`,
    `header = ${dialect.hasHeader}`,
    `columns = {${columnTypes}}`,
    'auto_detect = false',
    // A quoted "" is an empty value, an unquoted empty field is a null (missing) value.
    'allow_quoted_nulls = false',
    'null_padding = false',
  ];
  if (dialect.newline)
    options.push(
      `new_line = ${quoteLiteral(dialect.newline.replaceAll('\r', '\\r').replaceAll('\n', '\\n'))}`,
    );
  options.push(
    storeRejects
      ? `store_rejects = true, rejects_table = '${REJECTS_TABLE}', rejects_scan = '${REJECTS_SCAN_TABLE}', rejects_limit = 0`
      : 'ignore_errors = true',
  );
  return `read_csv(${quoteLiteral(path)}, ${options.join(', ')})`;
}

function typedExpression(column: string, type: string, sniffed: Sniffed): string {
  const dqdlType = dqdlTypeOf(type);
  if (dqdlType === 'STRING') return column;
  if (dqdlType === 'DATE' && sniffed.dateFormat)
    return `try_strptime(${column}, ${quoteLiteral(sniffed.dateFormat)})::DATE`;
  if (dqdlType === 'TIMESTAMP' && sniffed.timestampFormat)
    return `try_strptime(${column}, ${quoteLiteral(sniffed.timestampFormat)})`;
  return `TRY_CAST(${column} AS ${type})`;
}

/** SQL that is true exactly when the column's value satisfies a ColumnValues condition. */
function valueConditionSql(column: string, condition: ValueCondition): string {
  const number = `TRY_CAST(${column} AS DOUBLE)`;
  switch (condition.kind) {
    case 'matches':
      return `coalesce(regexp_full_match(${column}, ${quoteLiteral(condition.pattern)}), false)`;
    case 'between': {
      const inside = `${number} BETWEEN ${condition.low} AND ${condition.high}`;
      return `coalesce(${condition.negated ? `NOT (${inside})` : inside}, false)`;
    }
    case 'compare': {
      const operator = condition.operator === '!=' ? '<>' : condition.operator;
      return `coalesce(${number} ${operator} ${condition.value}, false)`;
    }
    case 'in': {
      const texts = condition.values.filter((value): value is string => typeof value === 'string');
      const numbers = condition.values.filter((value): value is number => typeof value === 'number');
      const alternatives: string[] = [];
      if (texts.length > 0) alternatives.push(`${column} IN (${texts.map(quoteLiteral).join(', ')})`);
      if (numbers.length > 0) alternatives.push(`${number} IN (${numbers.join(', ')})`);
      if (condition.values.includes(null)) alternatives.push(`${column} IS NULL`);
      const inSet = alternatives.length === 0 ? 'false' : `coalesce(${alternatives.join(' OR ')}, false)`;
      return condition.negated ? `NOT (${inSet})` : inSet;
    }
  }
}

async function rejectedRows(
  connection: DuckDBConnection,
  path: string,
  dialect: CsvDialect,
  listed: number,
): Promise<
  Pick<CsvProfile, 'malformedRowCount' | 'malformedRows' | 'malformedRowsTruncated' | 'encodingProblemCount'>
> {
  const counts = await firstRow(
    connection,
    `SELECT count(DISTINCT line)::DOUBLE AS rows,
            count(DISTINCT line) FILTER (WHERE error_type = 'INVALID ENCODING')::DOUBLE AS encoding
     FROM ${REJECTS_TABLE}`,
  );
  const malformedRowCount = counts.rows as number;
  if (malformedRowCount === 0)
    return {
      malformedRowCount: 0,
      malformedRows: [],
      malformedRowsTruncated: false,
      encodingProblemCount: 0,
    };
  const reader = await connection.runAndReadAll(
    `SELECT line::DOUBLE AS line, line_byte_position::DOUBLE AS position, error_type, error_message, column_name
     FROM ${REJECTS_TABLE} ORDER BY line LIMIT ${listed}`,
  );
  const listedRows = reader.getRowObjectsJS() as {
    line: number;
    position: number;
    error_type: string;
    error_message: string;
    column_name: string | null;
  }[];
  // DuckDB counts records, so a quoted newline earlier in the file shifts its line numbers; the
  // line a person opens the file at is one plus the newlines before the row's first byte.
  const physicalLines =
    dialect.newline === '\r'
      ? undefined
      : await lineNumbersAt(
          path,
          listedRows.map((row) => row.position),
        );
  const malformedRows: RejectedRow[] = listedRows.map((row, index) => ({
    line: physicalLines?.[index] ?? row.line,
    errorType: row.error_type.replaceAll(' ', '_'),
    reason: row.error_message,
    ...(row.column_name ? { column: row.column_name } : {}),
  }));
  return {
    malformedRowCount,
    malformedRows,
    malformedRowsTruncated: malformedRowCount > malformedRows.length,
    encodingProblemCount: counts.encoding as number,
  };
}

/** For each byte position (ascending), 1 + the number of `\n` before it; reads only up to the last one. */
async function lineNumbersAt(path: string, positions: number[]): Promise<number[]> {
  if (positions.length === 0) return [];
  const last = Math.max(...positions);
  const order = positions
    .map((position, index) => ({ position, index }))
    .sort((a, b) => a.position - b.position);
  const lines = new Array<number>(positions.length);
  let newlines = 0;
  let offset = 0;
  let next = 0;
  for await (const chunk of createReadStream(path, { end: Math.max(0, last - 1) }) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      while (next < order.length && (order[next] as { position: number }).position <= offset + i) {
        lines[(order[next] as { index: number }).index] = newlines + 1;
        next++;
      }
      if (chunk[i] === 0x0a) newlines++;
    }
    offset += chunk.length;
  }
  while (next < order.length) lines[(order[next++] as { index: number }).index] = newlines + 1;
  return lines;
}

async function startsWithByteOrderMark(path: string): Promise<boolean> {
  for await (const chunk of createReadStream(path, { start: 0, end: 2 }) as AsyncIterable<Buffer>) {
    return chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf;
  }
  return false;
}

async function firstRow(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>> {
  const reader = await connection.runAndReadAll(sql);
  const [row] = reader.getRowObjectsJS() as Record<string, unknown>[];
  if (!row) throw new Error('DuckDB returned no row');
  return row;
}

function emptyProfile(bytes: number, dialect: CsvDialect | null): CsvProfile {
  return {
    bytes,
    dialect,
    rowCount: 0,
    columnCount: 0,
    columns: [],
    duplicateRowCount: 0,
    malformedRowCount: 0,
    malformedRows: [],
    malformedRowsTruncated: false,
    encodingProblemCount: 0,
    measurements: {},
  };
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
