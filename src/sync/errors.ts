/** The sync layer's typed errors (the codes live with every other code in `core/errors.ts`). */
import { TidelogError } from '../core/errors.js';

/**
 * A peer sent ops under more new replica ids than its budget allows (per peer and in all, per minute: see
 * `SyncSessionOptions.replicaIdBudget`). Those ops are refused for now and accepted from a later answer.
 */
export class ReplicaIdBudgetError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('REPLICA_ID_BUDGET', message, details);
  }
}
