import type { Scenario } from '../lib/scenario.js';
import { chatScenario } from './chat.js';
import { clusterScenario } from './cluster.js';
import { connectScenario } from './connect.js';
import { crossScenario } from './cross.js';
import { drainScenario } from './drain.js';
import { idleScenario } from './idle.js';
import { redisClusterScenario } from './rediscluster.js';
import { relayScenario } from './relay.js';
import { replicaAcksScenario } from './replicaacks.js';
import { stormScenario } from './storm.js';

/** Every scenario, in the order a run takes them; `--only` picks by name from this list. */
export const SCENARIOS: readonly Scenario[] = [relayScenario, chatScenario, idleScenario, connectScenario, crossScenario, clusterScenario, redisClusterScenario, replicaAcksScenario, drainScenario, stormScenario];
