/** The compared systems, in report order. */
import { automergeSystem } from './automerge.js';
import { loroSystem } from './loro.js';
import type { MapSystem } from './system.js';
import { tidelogSystem } from './tidelog.js';
import { yjsSystem } from './yjs.js';

/** Every compared system, Tidelog first. */
export const SYSTEMS: readonly MapSystem[] = [tidelogSystem, yjsSystem, automergeSystem, loroSystem];
