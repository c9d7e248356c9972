/**
 * A subset of AWS Glue Data Quality's Data Quality Definition Language (DQDL):
 *
 *   Rules = [
 *     RowCount > 0,
 *     ColumnCount = 5,
 *     ColumnExists "id",
 *     IsComplete "id",
 *     Completeness "name" >= 0.95,
 *     IsUnique "id",
 *     Uniqueness "email" > 0.99,
 *     ColumnValues "state" in ["NM", "TX"],
 *     ColumnValues "age" between 0 and 120 with threshold > 0.9,
 *     ColumnValues "email" matches "[^@]+@[^@]+",
 *     ColumnDataType "age" = "INTEGER"
 *   ]
 *
 * Lines starting with `#` are comments. Anything outside the subset is an error that names the line,
 * the column and the rule it is in, so a ruleset author can fix it without reading this parser.
 */

export type ComparisonOperator = '=' | '!=' | '>' | '>=' | '<' | '<=';

/** A condition on one number: `> 10`, `between 0 and 1`, `not between 5 and 6`. */
export type NumericCondition =
  | { kind: 'compare'; operator: ComparisonOperator; value: number }
  | { kind: 'between'; low: number; high: number; negated: boolean };

export type ValueLiteral = string | number | null;

/** What each value of a column must satisfy in a ColumnValues rule. */
export type ValueCondition =
  | NumericCondition
  | { kind: 'in'; values: ValueLiteral[]; negated: boolean }
  | { kind: 'matches'; pattern: string };

/** The column types ColumnDataType can name (DQDL's names; LONG and FLOAT are aliases). */
export const dqdlDataTypes = ['BOOLEAN', 'INTEGER', 'DOUBLE', 'DATE', 'TIMESTAMP', 'STRING'] as const;
export type DqdlDataType = (typeof dqdlDataTypes)[number];
const dataTypeAliases: Record<string, DqdlDataType> = { LONG: 'INTEGER', FLOAT: 'DOUBLE' };

interface RuleBase {
  /** The rule as written, whitespace collapsed; the report names rules by it. */
  text: string;
  /** 1-based line of the ruleset the rule starts on. */
  line: number;
}

export type Rule = RuleBase &
  (
    | { type: 'RowCount'; condition: NumericCondition }
    | { type: 'ColumnCount'; condition: NumericCondition }
    | { type: 'ColumnExists'; column: string }
    | { type: 'IsComplete'; column: string }
    | { type: 'IsUnique'; column: string }
    | { type: 'Completeness'; column: string; condition: NumericCondition }
    | { type: 'Uniqueness'; column: string; condition: NumericCondition }
    | { type: 'ColumnValues'; column: string; condition: ValueCondition; threshold?: NumericCondition }
    | { type: 'ColumnDataType'; column: string; types: DqdlDataType[]; negated: boolean }
  );

export type RuleType = Rule['type'];

export interface Ruleset {
  rules: Rule[];
}

/** A ruleset that is not valid DQDL (or uses something outside the supported subset). */
export class DqdlSyntaxError extends Error {
  override readonly name = 'DqdlSyntaxError';
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    /** 1-based index of the rule being parsed, when the error is inside one. */
    readonly ruleIndex: number | undefined,
  ) {
    super(
      `Invalid DQDL at line ${line}, column ${column}${ruleIndex === undefined ? '' : ` (rule ${ruleIndex})`}: ${reason}`,
    );
  }
}

type TokenKind = 'word' | 'string' | 'number' | 'operator' | 'punct' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  value?: string | number;
  line: number;
  column: number;
  offset: number;
}

const RULE_TYPES = new Set<RuleType>([
  'RowCount',
  'ColumnCount',
  'ColumnExists',
  'IsComplete',
  'Completeness',
  'IsUnique',
  'Uniqueness',
  'ColumnValues',
  'ColumnDataType',
]);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const fail = (reason: string, at: number): never => {
    throw new DqdlSyntaxError(reason, line, at - lineStart + 1, undefined);
  };
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === '\n') {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\uFEFF') {
      i++;
      continue;
    }
    if (ch === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    const start = i;
    const at = { line, column: i - lineStart + 1, offset: i };
    if (ch === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length || source[i] === '\n') fail('unterminated string', start);
        const c = source[i] as string;
        if (c === '\\' && i + 1 < source.length) {
          // Keep the escape for the next character as written: patterns need their backslashes.
          const next = source[i + 1] as string;
          value += next === '"' ? '"' : `\\${next}`;
          i += 2;
          continue;
        }
        if (c === '"') {
          i++;
          break;
        }
        value += c;
        i++;
      }
      tokens.push({ kind: 'string', text: source.slice(start, i), value, ...at });
      continue;
    }
    const number = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(source.slice(i, i + 64));
    if (number && (ch !== '-' || /\d|\./.test(source[i + 1] ?? ''))) {
      i += number[0].length;
      tokens.push({ kind: 'number', text: number[0], value: Number(number[0]), ...at });
      continue;
    }
    const operator = /^(?:>=|<=|!=|=|>|<)/.exec(source.slice(i, i + 2));
    if (operator) {
      i += operator[0].length;
      tokens.push({ kind: 'operator', text: operator[0], ...at });
      continue;
    }
    if ('[],'.includes(ch)) {
      i++;
      tokens.push({ kind: 'punct', text: ch, ...at });
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i, i + 128));
    if (word) {
      i += word[0].length;
      tokens.push({ kind: 'word', text: word[0], ...at });
      continue;
    }
    fail(`unexpected character ${JSON.stringify(ch)}`, i);
  }
  tokens.push({ kind: 'end', text: 'end of ruleset', line, column: i - lineStart + 1, offset: i });
  return tokens;
}

/** Parses a DQDL ruleset; throws DqdlSyntaxError naming the line, column and rule on anything invalid. */
export function parseDqdl(source: string): Ruleset {
  const tokens = tokenize(source);
  let position = 0;
  let ruleIndex: number | undefined;

  const peek = (): Token => tokens[position] as Token;
  const next = (): Token => tokens[position++] as Token;
  const fail = (reason: string, token: Token = peek()): never => {
    throw new DqdlSyntaxError(reason, token.line, token.column, ruleIndex);
  };
  const describe = (token: Token) => (token.kind === 'end' ? 'the end of the ruleset' : `"${token.text}"`);
  const isWord = (token: Token, word: string) => token.kind === 'word' && token.text.toLowerCase() === word;
  const expectWord = (word: string, what = `"${word}"`) => {
    const token = next();
    if (!isWord(token, word)) fail(`expected ${what} but found ${describe(token)}`, token);
  };
  const expectPunct = (punct: string) => {
    const token = next();
    if (token.kind !== 'punct' || token.text !== punct)
      fail(`expected "${punct}" but found ${describe(token)}`, token);
  };
  const expectNumber = (): number => {
    const token = next();
    if (token.kind !== 'number') fail(`expected a number but found ${describe(token)}`, token);
    return token.value as number;
  };
  const expectColumn = (ruleType: string): string => {
    const token = next();
    if (token.kind !== 'string')
      fail(`${ruleType} needs a column name in double quotes but found ${describe(token)}`, token);
    if (token.value === '') fail(`${ruleType} needs a non-empty column name`, token);
    return token.value as string;
  };

  const numericCondition = (ruleType: string): NumericCondition => {
    const token = peek();
    if (token.kind === 'operator') {
      next();
      return { kind: 'compare', operator: token.text as ComparisonOperator, value: expectNumber() };
    }
    const negated = isWord(token, 'not');
    if (negated) next();
    if (isWord(peek(), 'between')) {
      next();
      const low = expectNumber();
      expectWord('and');
      const high = expectNumber();
      if (low > high) fail(`between ${low} and ${high}: the low bound is above the high bound`, token);
      return { kind: 'between', low, high, negated };
    }
    return fail(
      `${ruleType} needs a condition (=, !=, >, >=, <, <= or between) but found ${describe(peek())}`,
    );
  };

  const valueCondition = (): ValueCondition => {
    const token = peek();
    if (isWord(token, 'matches')) {
      next();
      const pattern = next();
      if (pattern.kind !== 'string') fail(`matches needs a pattern in double quotes`, pattern);
      try {
        new RegExp(pattern.value as string);
      } catch (error) {
        fail(`invalid pattern: ${(error as Error).message}`, pattern);
      }
      return { kind: 'matches', pattern: pattern.value as string };
    }
    const negatedIn = isWord(token, 'not') && isWord(tokens[position + 1] as Token, 'in');
    if (isWord(token, 'in') || negatedIn) {
      if (negatedIn) next();
      next();
      return { kind: 'in', values: literalList(), negated: negatedIn };
    }
    return numericCondition('ColumnValues');
  };

  const literalList = (): ValueLiteral[] => {
    expectPunct('[');
    const values: ValueLiteral[] = [];
    for (;;) {
      const token = next();
      if (token.kind === 'string' || token.kind === 'number') values.push(token.value as string | number);
      else if (isWord(token, 'null')) values.push(null);
      else fail(`expected a value ("text", a number or NULL) but found ${describe(token)}`, token);
      const separator = next();
      if (separator.kind === 'punct' && separator.text === ']') return values;
      if (separator.kind !== 'punct' || separator.text !== ',')
        fail(`expected "," or "]" but found ${describe(separator)}`, separator);
    }
  };

  const dataTypes = (): DqdlDataType[] => {
    const parseType = (token: Token): DqdlDataType => {
      if (token.kind !== 'string') fail(`expected a type name in double quotes`, token);
      const name = String(token.value).toUpperCase();
      const type = dataTypeAliases[name] ?? name;
      if (!(dqdlDataTypes as readonly string[]).includes(type))
        fail(`unknown data type "${token.value}"; known: ${dqdlDataTypes.join(', ')}, LONG, FLOAT`, token);
      return type as DqdlDataType;
    };
    const token = peek();
    if (token.kind === 'operator' && token.text === '=') {
      next();
      return [parseType(next())];
    }
    if (isWord(token, 'in')) {
      next();
      expectPunct('[');
      const types: DqdlDataType[] = [];
      for (;;) {
        types.push(parseType(next()));
        const separator = next();
        if (separator.kind === 'punct' && separator.text === ']') return types;
        if (separator.kind !== 'punct' || separator.text !== ',')
          fail(`expected "," or "]" but found ${describe(separator)}`, separator);
      }
    }
    return fail(`ColumnDataType needs = "TYPE" or in ["TYPE", ...] but found ${describe(token)}`);
  };

  const rule = (): Rule => {
    const head = next();
    if (head.kind !== 'word' || !RULE_TYPES.has(head.text as RuleType))
      fail(`unknown rule ${describe(head)}; supported: ${[...RULE_TYPES].join(', ')}`, head);
    const type = head.text as RuleType;
    const base = { line: head.line };
    let parsed: Rule;
    switch (type) {
      case 'RowCount':
      case 'ColumnCount':
        parsed = { type, condition: numericCondition(type), text: '', ...base };
        break;
      case 'ColumnExists':
      case 'IsComplete':
      case 'IsUnique':
        parsed = { type, column: expectColumn(type), text: '', ...base };
        break;
      case 'Completeness':
      case 'Uniqueness': {
        const column = expectColumn(type);
        parsed = { type, column, condition: numericCondition(type), text: '', ...base };
        break;
      }
      case 'ColumnValues': {
        const column = expectColumn(type);
        const condition = valueCondition();
        let threshold: NumericCondition | undefined;
        if (isWord(peek(), 'with')) {
          next();
          expectWord('threshold');
          threshold = numericCondition('threshold');
        }
        parsed = { type, column, condition, text: '', ...base, ...(threshold ? { threshold } : {}) };
        break;
      }
      case 'ColumnDataType': {
        const column = expectColumn(type);
        const negated = isWord(peek(), 'not');
        if (negated) next();
        parsed = { type, column, types: dataTypes(), negated, text: '', ...base };
        break;
      }
    }
    const end = peek();
    parsed.text = source
      .slice(head.offset, end.offset)
      .replace(/#[^\n]*/g, '')
      .replace(/\s+/g, ' ')
      .replace(/[\s,]+$/, '');
    return parsed;
  };

  expectWord('rules', '"Rules = ["');
  const equals = next();
  if (equals.kind !== 'operator' || equals.text !== '=') fail(`expected "=" after Rules`, equals);
  expectPunct('[');
  const rules: Rule[] = [];
  for (;;) {
    const token = peek();
    if (token.kind === 'punct' && token.text === ']') {
      next();
      break;
    }
    ruleIndex = rules.length + 1;
    rules.push(rule());
    const separator = peek();
    if (separator.kind === 'punct' && separator.text === ',') next();
    else if (!(separator.kind === 'punct' && separator.text === ']'))
      fail(`expected "," between rules or "]" to close the ruleset but found ${describe(separator)}`);
  }
  ruleIndex = undefined;
  if (peek().kind !== 'end') fail(`unexpected ${describe(peek())} after the closing "]"`);
  return { rules };
}
