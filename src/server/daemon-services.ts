import { AutomationStore } from '../orchestrator/automation-store.js';
import { type BackfillLauncher, Backfills } from '../orchestrator/backfill.js';
import type { Runtime } from '../runtime.js';
import type { AppDeps } from './app-deps.js';
import { AutomationService } from './automation-service.js';

/** What the daemon adds to the app's dependencies: live sensors/schedules and backfills over its queue. */
export interface DaemonServices {
  automation: AutomationService;
  backfills: Backfills;
  /** The daemon's alert loop: woken when the API queues an event (a test alert) to send it now. */
  alerts?: { wake(): void };
}

export interface DaemonAppDeps extends AppDeps {
  services?: DaemonServices;
}

/**
 * The daemon's services when the app runs inside it; otherwise services over the persisted
 * state only (listing and switching on/off work, nothing ticks). Built per request: `deps.runtime`
 * may not be usable when routes are registered.
 */
export function servicesOf(deps: AppDeps): DaemonServices {
  const live = (deps as DaemonAppDeps).services;
  if (live) return live;
  return offlineServices(deps.runtime, deps.launcher);
}

export function offlineServices(runtime: Runtime, launcher: BackfillLauncher): DaemonServices {
  return {
    automation: new AutomationService({
      config: runtime.config,
      store: new AutomationStore(runtime.warehouse),
    }),
    backfills: new Backfills({
      warehouse: runtime.warehouse,
      launcher,
      allAssets: runtime.graph.assets.map((a) => a.name),
    }),
  };
}
