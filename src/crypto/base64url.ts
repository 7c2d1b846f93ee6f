/**
 * Base64url (RFC 4648 §5, no padding) without Buffer, so it runs in browsers too: `@scure/base` (audited,
 * a sibling of the noble packages), which also refuses non-canonical text: unused trailing bits that are not
 * zero (`'AB'` would otherwise decode to the same byte as `'AA'`), padding, and impossible lengths.
 */
import { base64urlnopad } from '@scure/base';
import { InvalidKeyMaterialError } from './errors.js';

/** Encodes bytes as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  return base64urlnopad.encode(bytes);
}

/**
 * Decodes unpadded, canonical base64url: exactly one text decodes to given bytes.
 * @throws InvalidKeyMaterialError on a character outside the alphabet, padding, an impossible length, or
 * non-zero trailing bits.
 */
export function fromBase64Url(text: string): Uint8Array {
  if (typeof text !== 'string') throw new InvalidKeyMaterialError('base64url text must be a string', { type: typeof text });
  try {
    return base64urlnopad.decode(text);
  } catch (error) {
    throw new InvalidKeyMaterialError(`base64url text is not canonical unpadded base64url: ${(error as Error).message}`, { length: text.length });
  }
}
