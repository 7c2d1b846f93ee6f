/**
 * Waiting for promise work started by a simulated event. Replicas, storage and
 * sessions inside the simulator only chain promises (no timers, no I/O), so
 * everything an event started has run once the microtask queue is empty.
 */

/**
 * Resolves once the microtask queue has drained. Node runs `nextTick` callbacks
 * only after the microtasks queued before them, so this is one hop, not a full
 * event-loop turn as `setImmediate` is (which cost about a third of a run's wall
 * time in idle loop iterations).
 */
export const settle = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
