/**
 * The payloads of the small files beside the segments: the snapshot record and
 * `meta.json`. Both are validated on read so damaged bytes never become data.
 */
import { opsFromWire, opsToWire } from '../core/codec.js';
import { DecodeError } from '../core/errors.js';
import type { Snapshot, StorageMeta } from '../core/storage.js';
import { validateVersionVector } from '../core/version-vector.js';
import { crc32c } from './crc32c.js';

const SNAPSHOT_PAYLOAD_VERSION = 1;
const META_FORMAT = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a snapshot as a record payload. */
export function encodeSnapshotPayload(snapshot: Snapshot): Uint8Array {
  return encoder.encode(JSON.stringify({ v: SNAPSHOT_PAYLOAD_VERSION, base: snapshot.base, clock: { wall: snapshot.clock.wall, logical: snapshot.clock.logical }, winners: opsToWire(snapshot.winners) }));
}

/** Decodes and validates a snapshot payload. @throws DecodeError */
export function decodeSnapshotPayload(bytes: Uint8Array): Snapshot {
  let parsed: { v?: unknown; base?: unknown; clock?: { wall?: unknown; logical?: unknown }; winners?: unknown };
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new DecodeError(`snapshot is not UTF-8 JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || parsed.v !== SNAPSHOT_PAYLOAD_VERSION) throw new DecodeError('snapshot payload has an unknown version');
  const { wall, logical } = parsed.clock ?? {};
  if (!Number.isSafeInteger(wall) || !Number.isSafeInteger(logical) || (wall as number) < 0 || (logical as number) < 0) throw new DecodeError('snapshot clock is not an HLC timestamp');
  let base: Snapshot['base'];
  try {
    base = validateVersionVector(parsed.base);
  } catch (error) {
    throw new DecodeError(`snapshot base is not a version vector: ${(error as Error).message}`);
  }
  return { base, clock: { wall: wall as number, logical: logical as number }, winners: opsFromWire(parsed.winners) };
}

/** The checksum of the meta fields: a flipped bit in the replica id must not silently make another replica. */
function metaChecksum(replicaId: string): number {
  return crc32c(encoder.encode(`${META_FORMAT}:${replicaId}`));
}

/** The bytes of `meta.json` (readable JSON, with a CRC32C of its fields). */
export function encodeMeta(meta: StorageMeta): Uint8Array {
  return encoder.encode(`${JSON.stringify({ format: META_FORMAT, replicaId: meta.replicaId, crc32c: metaChecksum(meta.replicaId) })}\n`);
}

/** Parses `meta.json`. @throws DecodeError */
export function decodeMeta(bytes: Uint8Array): StorageMeta {
  let parsed: { format?: unknown; replicaId?: unknown; crc32c?: unknown };
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new DecodeError(`meta.json is not UTF-8 JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || parsed.format !== META_FORMAT) throw new DecodeError('meta.json has an unknown format');
  if (typeof parsed.replicaId !== 'string' || parsed.replicaId.length === 0) throw new DecodeError('meta.json lacks a replica id');
  if (parsed.crc32c !== metaChecksum(parsed.replicaId)) throw new DecodeError('meta.json checksum mismatch');
  return { replicaId: parsed.replicaId };
}
