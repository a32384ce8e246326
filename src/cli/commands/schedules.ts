import type { Command } from 'commander';
import { registerInstigatorCommands } from './sensors.js';

export function registerSchedules(program: Command): void {
  registerInstigatorCommands(program, 'schedules');
}
