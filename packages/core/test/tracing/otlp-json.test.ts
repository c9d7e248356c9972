import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonBytes } from '../../src/tracing/otlp-json.js';

const textOf = (out: JsonBytes) => out.written().toString('utf8');

describe('JsonBytes', () => {
  it('writes any string as JSON.stringify does: ASCII byte by byte, the rest escaped or UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme-ascii' }), (any, ascii) => {
        // A small buffer, so writes also cross its growth.
        const out = new JsonBytes(4);
        out.string(ascii);
        out.ascii(',');
        out.string(any);
        expect(textOf(out)).toBe(`${JSON.stringify(ascii)},${JSON.stringify(any)}`);
      }),
    );
    const out = new JsonBytes(1);
    for (const value of ['a"b', 'back\\slash', 'tab\there', 'é', '😀', '\ud800 lone', '\u007f'])
      out.string(value);
    expect(textOf(out)).toBe(
      ['a"b', 'back\\slash', 'tab\there', 'é', '😀', '\ud800 lone', '\u007f']
        .map((v) => JSON.stringify(v))
        .join(''),
    );
  });

  it('writes non-negative integers in decimal, zero-padded to a width', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: 20 }),
        (value, width) => {
          const out = new JsonBytes(2);
          out.digits(value, width);
          expect(textOf(out)).toBe(String(value).padStart(width, '0'));
        },
      ),
    );
  });
});
