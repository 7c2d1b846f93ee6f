import { describe, expect, it } from 'vitest';
import { PeerTable } from '../../src/sync/peer-table.js';

describe('PeerTable', () => {
  it('tracks a new peer when full by dropping the one heard from least recently, and cancels its timer', () => {
    const table = new PeerTable(3);
    let cancelled = 0;
    table.touch('a', 10, () => 0).askTimer = () => {
      cancelled += 1;
    };
    table.touch('b', 20, () => 0);
    table.touch('c', 30, () => 0);
    table.touch('a', 40, () => 0); // heard again: now b is the stalest
    const d = table.touch('d', 50, () => 7);
    expect(table.size).toBe(3);
    expect(table.ids()).toEqual(['a', 'c', 'd']);
    expect(table.get('b')).toBeUndefined();
    expect(d.pushFloor).toBe(7);
    expect(table.evicted).toBe(1);
    expect(cancelled).toBe(0);
    table.touch('e', 60, () => 0); // c is the stalest now
    table.touch('f', 70, () => 0); // then a, whose ask timer is cancelled
    expect(table.ids()).toEqual(['d', 'e', 'f']);
    expect(cancelled).toBe(1);
    expect(table.evicted).toBe(3);
  });

  it('keeps first-heard order and the state of a peer heard again', () => {
    const table = new PeerTable(1024);
    const a = table.touch('a', 1, () => 5);
    a.pushSeen = 9;
    table.touch('b', 2, () => 0);
    expect(table.touch('a', 3, () => 100)).toBe(a);
    expect(a.pushFloor).toBe(5);
    expect(a.pushSeen).toBe(9);
    expect(a.lastHeardMs).toBe(3);
    expect(table.ids()).toEqual(['a', 'b']);
  });

  it('answers the 1025th peer of a churning room (every id tracked, the stalest dropped)', () => {
    const table = new PeerTable(1024);
    for (let i = 0; i < 1025; i++) table.touch(`incarnation-${i}`, i, () => 0);
    expect(table.size).toBe(1024);
    expect(table.get('incarnation-1024')).toBeDefined();
    expect(table.get('incarnation-0')).toBeUndefined();
  });
});
