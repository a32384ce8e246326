import { expect, it } from 'vitest';
import { csv, row, testPipeline } from '../support/pipeline.js';
it('dbg', async () => {
  const p = await testPipeline('dbg');
  await p.put('year=2025/month=04/day=23/a.csv', csv(row(), row({ user_id: '2' })));
  const s = await p.materialize();
  console.log(s.status, s.error);
  console.log(JSON.stringify(s.assets.map((a) => [a.asset, a.status, a.error])));
  console.log(JSON.stringify(await p.rows('SELECT * FROM check_results ORDER BY result_id'), null, 1));
  expect(1).toBe(1);
});
