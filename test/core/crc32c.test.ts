import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/core/crc32c.js';

describe('crc32c', () => {
  it('gives the standard check value of CRC-32C (Castagnoli)', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('checksums a range as it checksums the same bytes alone, and chains through seed', () => {
    const bytes = new TextEncoder().encode('xx123456789yy');
    expect(crc32c(bytes, 2, 11)).toBe(0xe3069283);
    const whole = crc32c(bytes);
    expect(crc32c(bytes, 5, bytes.length, crc32c(bytes, 0, 5))).toBe(whole);
  });

  it('changes on any single flipped bit of a long input', () => {
    const bytes = new Uint8Array(4096).map((_, i) => (i * 31) & 0xff);
    const clean = crc32c(bytes);
    for (const bit of [0, 7, 8 * 1000 + 3, 8 * 4095 + 7]) {
      const damaged = bytes.slice();
      damaged[bit >> 3] = (damaged[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(crc32c(damaged)).not.toBe(clean);
    }
  });
});
