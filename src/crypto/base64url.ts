/** Base64url (RFC 4648 §5, no padding) without Buffer, so it runs in browsers too. */
import { InvalidKeyMaterialError } from './errors.js';

const ALPHABET_TEXT = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ALPHABET: readonly string[] = ALPHABET_TEXT.split('');
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET_TEXT.length; i++) LOOKUP[ALPHABET_TEXT.charCodeAt(i)] = i;

/** Encodes bytes as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += (ALPHABET[n >>> 18] as string) + ALPHABET[(n >>> 12) & 63] + ALPHABET[(n >>> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += (ALPHABET[n >>> 18] as string) + ALPHABET[(n >>> 12) & 63];
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += (ALPHABET[n >>> 18] as string) + ALPHABET[(n >>> 12) & 63] + ALPHABET[(n >>> 6) & 63];
  }
  return out;
}

/**
 * Decodes unpadded base64url.
 * @throws InvalidKeyMaterialError on a character outside the alphabet or an impossible length.
 */
export function fromBase64Url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new InvalidKeyMaterialError('base64url text has an impossible length', { length: text.length });
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (LOOKUP[code] as number) : -1;
    if (value < 0) throw new InvalidKeyMaterialError('base64url text holds a character outside the alphabet', { index: i });
    acc = (acc << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}
