/**
 * Damages a valid sync frame every way one cut or one flipped bit can, and checks the decoder's answer:
 * a truncated frame is always a DecodeError; a flipped one is a DecodeError or decodes to a well-formed message.
 */
import { expect } from 'vitest';
import { DecodeError } from '../../src/core/errors.js';
import { decodeMessage, encodeMessage } from '../../src/sync/messages.js';

/** Runs every truncation and every single-bit flip of `bytes` through the decoder; returns how many flips it rejected. */
export function expectTruncationsAndFlipsHandled(bytes: Uint8Array): number {
  for (let cut = 0; cut < bytes.length; cut++) expect(() => decodeMessage(bytes.subarray(0, cut))).toThrow(DecodeError);
  let rejected = 0;
  for (let at = 0; at < bytes.length; at++) {
    for (let bit = 0; bit < 8; bit++) {
      const copy = bytes.slice();
      copy[at] = (copy[at] as number) ^ (1 << bit);
      try {
        const message = decodeMessage(copy);
        // A flip can land on a value that is still valid (a digit, a letter): then the result must be well formed
        // (compared as JSON: a flipped digit can make -0, which JSON writes as 0).
        expect(JSON.stringify(decodeMessage(encodeMessage(message)))).toBe(JSON.stringify(message));
      } catch (error) {
        expect(error).toBeInstanceOf(DecodeError);
        rejected += 1;
      }
    }
  }
  return rejected;
}
