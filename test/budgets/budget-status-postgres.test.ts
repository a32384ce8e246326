import { describe, it } from 'vitest';
import { budgetStatusScenario } from './status-scenario.js';

describe('budget_status on PostgreSQL', () => {
  it('spend to date matches billing_events per scope with unknown days; a late event and a lowering re-upload follow', () =>
    budgetStatusScenario('postgres'));
});
