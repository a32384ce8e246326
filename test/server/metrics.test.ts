import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PipelineMetrics } from '../../src/server/metrics.js';
import { createSource } from '../../src/sources/create-source.js';
import { RetryingSource } from '../../src/sources/retrying-source.js';
import { type Source, SourceError } from '../../src/sources/source.js';
import { tmpDir } from '../support/tmp.js';

const errors = async (metrics: PipelineMetrics) => {
  const text = await metrics.render();
  const value = (kind: string) =>
    Number(text.match(new RegExp(`^billing_source_errors_total\\{kind="${kind}"\\} (\\S+)$`, 'm'))?.[1]);
  return { transient: value('transient'), permanent: value('permanent') };
};

describe('source error metrics', () => {
  it('counts every failed attempt of a retrying source by kind, including the retried ones', async () => {
    const metrics = new PipelineMetrics({ processMetrics: false });
    let calls = 0;
    // Fails twice like a throttled S3, then answers: the retries succeed but were still errors.
    const flaky: Source = {
      uri: 'flaky://',
      list: () => (async function* () {})(),
      open: async () => {
        calls += 1;
        if (calls <= 2) throw new SourceError('SlowDown', { transient: true });
        return Readable.from(['ok']);
      },
      put: async () => {},
      putFile: async () => {},
      close: async () => {},
    };
    const source = new RetryingSource(flaky, {
      retries: 3,
      baseDelayMs: 1,
      maxDelayMs: 1,
      sleep: async () => {},
      onError: metrics.sourceError,
    });
    await source.open('a.csv');
    expect(await errors(metrics)).toEqual({ transient: 2, permanent: 0 });

    // A real local folder: a missing file is permanent and not retried.
    const local = new RetryingSource(createSource(await tmpDir('metrics-src'), {}), {
      retries: 3,
      baseDelayMs: 1,
      maxDelayMs: 1,
      sleep: async () => {},
      onError: metrics.sourceError,
    });
    await expect(local.open('year=2025/month=04/day=23/nope.csv')).rejects.toThrow(SourceError);
    expect(await errors(metrics)).toEqual({ transient: 2, permanent: 1 });
  });

  it('keeps each daemon in its own registry', async () => {
    const a = new PipelineMetrics({ processMetrics: false });
    const b = new PipelineMetrics({ processMetrics: false });
    a.sourceError(new SourceError('x', { transient: false }));
    expect(await errors(a)).toEqual({ transient: 0, permanent: 1 });
    expect(await errors(b)).toEqual({ transient: 0, permanent: 0 });
  });
});
