import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoFailedError, InvalidKeyMaterialError, UnsupportedVersionError } from '../../src/crypto/errors.js';
import { fromBase64Url, toBase64Url } from '../../src/crypto/base64url.js';
import { seededRandomBytes } from '../../src/crypto/random-bytes.js';
import { generateRoomKey, roomKeyFromInvite, roomKeyFromPassphrase, roomKeyFromSecret, roomKeyToInvite } from '../../src/crypto/room-key.js';

describe('base64url', () => {
  it('round-trips any bytes and matches Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(fromBase64Url(text)).toEqual(bytes);
      }),
    );
  });
  it('rejects characters outside the alphabet with a typed error', () => {
    expect(() => fromBase64Url('ab+c')).toThrow(InvalidKeyMaterialError);
    expect(() => fromBase64Url('abcde')).toThrow(InvalidKeyMaterialError);
  });
  it('refuses non-canonical text: one byte string has exactly one encoding', () => {
    expect(fromBase64Url('AA')).toEqual(new Uint8Array([0]));
    // 'AB' sets a bit past the byte's 8: a lenient decoder reads it as [0] too, so two texts would name one key.
    for (const text of ['AB', 'AAB', 'AA==', 'A', '_w=']) expect(() => fromBase64Url(text), text).toThrow(InvalidKeyMaterialError);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), (bytes, pick) => {
        const text = toBase64Url(bytes);
        if (text.length % 4 === 0) return; // no unused bits to set
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = alphabet.indexOf(text[text.length - 1] as string);
        const unused = text.length % 4 === 2 ? 0b1111 : 0b11;
        const altered = alphabet[(last & ~unused) | (1 + (pick % unused))] as string;
        expect(() => fromBase64Url(text.slice(0, -1) + altered)).toThrow(InvalidKeyMaterialError);
      }),
    );
  });
});

describe('room keys', () => {
  it('round-trips through an invite string', () => {
    const key = generateRoomKey(seededRandomBytes(1));
    const invite = roomKeyToInvite(key);
    expect(invite.startsWith('tidelog1:')).toBe(true);
    const back = roomKeyFromInvite(`  ${invite}\n`);
    expect(back.secret).toEqual(key.secret);
    expect(back.roomId).toBe(key.roomId);
  });

  it('derives a room id that reveals neither the secret nor the other derived keys', () => {
    const key = generateRoomKey();
    const idBytes = fromBase64Url(key.roomId);
    expect(idBytes.length).toBe(16);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    for (const secretish of [key.secret, key.envelopeKey, key.atRestKey]) {
      expect(hex(secretish).includes(hex(idBytes.subarray(0, 8)))).toBe(false);
      expect(key.roomId.includes(toBase64Url(secretish.subarray(0, 6)))).toBe(false);
    }
    expect(hex(key.envelopeKey)).not.toBe(hex(key.atRestKey));
    expect(generateRoomKey().roomId).not.toBe(key.roomId);
  });

  it('rejects damaged invites with typed errors', () => {
    const invite = roomKeyToInvite(generateRoomKey(seededRandomBytes(2)));
    const last = invite.at(-1) === 'A' ? 'B' : 'A';
    expect(() => roomKeyFromInvite(invite.slice(0, -1) + last)).toThrow(InvalidKeyMaterialError);
    expect(() => roomKeyFromInvite(invite.slice(0, -4))).toThrow(InvalidKeyMaterialError);
    expect(() => roomKeyFromInvite(invite.replace('tidelog1:', 'tidelog2:'))).toThrow(UnsupportedVersionError);
    expect(() => roomKeyFromInvite('hello')).toThrow(CryptoFailedError);
    expect(() => roomKeyFromInvite(42 as unknown as string)).toThrow(CryptoFailedError);
    expect(() => roomKeyFromSecret(new Uint8Array(31))).toThrow(InvalidKeyMaterialError);
  });

  it('derives the same key from the same passphrase and salt, another from another salt', async () => {
    const params = { N: 2 ** 10 };
    const a = await roomKeyFromPassphrase('correct horse battery staple', 'kitchen-list', params);
    const b = await roomKeyFromPassphrase('correct horse battery staple', 'kitchen-list', params);
    const c = await roomKeyFromPassphrase('correct horse battery staple', 'garage-list', params);
    const d = await roomKeyFromPassphrase('correct horse battery stapler', 'kitchen-list', params);
    expect(a.roomId).toBe(b.roomId);
    expect(a.secret).toEqual(b.secret);
    expect(new Set([a.roomId, c.roomId, d.roomId]).size).toBe(3);
    expect(a.roomId.includes('kitchen')).toBe(false);
    await expect(roomKeyFromPassphrase('', 'x', params)).rejects.toThrow(InvalidKeyMaterialError);
    await expect(roomKeyFromPassphrase('pw', '', params)).rejects.toThrow(InvalidKeyMaterialError);
  });
});
