import { describe, expect, it } from 'vitest';
import type { AssetDefinition } from './asset.js';
import { AssetGraph } from './asset-graph.js';

const asset = (name: string, deps: string[] = []): AssetDefinition => ({
  name,
  description: name,
  deps,
  partitioning: 'none',
  materialize: async () => ({ changed: false, partitions: [] }),
});

describe('AssetGraph', () => {
  const graph = new AssetGraph([
    asset('d', ['b', 'c']),
    asset('b', ['a']),
    asset('c', ['a']),
    asset('a'),
    asset('e', ['d']),
  ]);

  it('orders assets so dependencies come first', () => {
    const order = graph.assets.map((a) => a.name);
    for (const a of graph.assets)
      for (const dep of a.deps) expect(order.indexOf(dep)).toBeLessThan(order.indexOf(a.name));
  });

  it('selects with and without upstream, in dependency order', () => {
    expect(graph.select(['d']).map((a) => a.name)).toEqual(['d']);
    expect(graph.select(['d'], { withUpstream: true }).map((a) => a.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(graph.select(undefined).length).toBe(5);
    expect(graph.reachable('a', 'down')).toEqual(['b', 'c', 'd', 'e']);
  });

  it('closes a selection over everything downstream, in dependency order', () => {
    expect(graph.withDownstream(['b'])).toEqual(['b', 'd', 'e']);
    expect(graph.withDownstream(['c', 'b'])).toEqual(['b', 'c', 'd', 'e']);
    expect(graph.withDownstream(['e'])).toEqual(['e']);
    expect(graph.withDownstream([])).toEqual([]);
    expect(() => graph.withDownstream(['zzz'])).toThrow(/unknown asset "zzz"/);
  });

  it('refuses cycles, unknown dependencies, duplicates and unknown names', () => {
    expect(() => new AssetGraph([asset('x', ['y']), asset('y', ['x'])])).toThrow(/cycle: x -> y -> x/);
    expect(() => new AssetGraph([asset('x', ['nope'])])).toThrow(/unknown asset "nope"/);
    expect(() => new AssetGraph([asset('x'), asset('x')])).toThrow(/declared twice/);
    expect(() => graph.select(['zzz'])).toThrow(/unknown asset "zzz"; known assets: /);
  });
});
