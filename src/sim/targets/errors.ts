/** The typed error of simulator targets. */
import { TidelogError } from '../../core/errors.js';

/** A simulator target that cannot be loaded: its CRDT package is not installed, or a module exports no adapter. */
export class TargetUnavailableError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('TARGET_UNAVAILABLE', message, details);
  }
}
