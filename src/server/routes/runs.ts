import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';

export function registerRunRoutes(_app: App, _deps: AppDeps): void {}
