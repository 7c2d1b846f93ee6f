/** The typed error of the simulator's library API. */
import { TidelogError } from '../core/errors.js';

/**
 * A simulation that found violations, thrown by `expectConverges`: the message names each failing seed, its
 * checker and finding, the replay, and the shrunk schedule; `details.failures` holds them as data.
 */
export class SimulationFailedError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SIMULATION_FAILED', message, details);
  }
}
