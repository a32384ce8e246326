import type { AssetDefinition } from './asset.js';

export class AssetGraphError extends Error {
  override name = 'AssetGraphError';
}

/** The dependency graph of assets: validated once, then queried for order and selections. */
export class AssetGraph {
  readonly assets: readonly AssetDefinition[];
  private readonly byName: Map<string, AssetDefinition>;
  private readonly order: string[];

  constructor(assets: readonly AssetDefinition[]) {
    this.byName = new Map();
    for (const asset of assets) {
      if (this.byName.has(asset.name)) throw new AssetGraphError(`asset "${asset.name}" is declared twice`);
      this.byName.set(asset.name, asset);
    }
    for (const asset of assets) {
      for (const dep of asset.deps) {
        if (!this.byName.has(dep)) {
          throw new AssetGraphError(`asset "${asset.name}" depends on unknown asset "${dep}"`);
        }
      }
    }
    this.order = topologicalOrder(assets);
    this.assets = this.order.map((name) => this.get(name));
  }

  get(name: string): AssetDefinition {
    const asset = this.byName.get(name);
    if (!asset) {
      throw new AssetGraphError(
        `unknown asset "${name}"; known assets: ${[...this.byName.keys()].join(', ')}`,
      );
    }
    return asset;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  downstreamOf(name: string): string[] {
    return this.order.filter((other) => this.get(other).deps.includes(name));
  }

  /** Every asset reachable upstream (`up`) or downstream (`down`) of `name`, excluding it. */
  reachable(name: string, direction: 'up' | 'down'): string[] {
    const seen = new Set<string>();
    const visit = (current: string) => {
      const next = direction === 'up' ? this.get(current).deps : this.downstreamOf(current);
      for (const n of next) {
        if (!seen.has(n)) {
          seen.add(n);
          visit(n);
        }
      }
    };
    visit(name);
    return this.order.filter((n) => seen.has(n));
  }

  /**
   * The named assets and everything downstream of them, in dependency order: what has to run so
   * that nothing below a rebuilt asset is left stale by it.
   */
  withDownstream(names: readonly string[]): string[] {
    const chosen = new Set<string>();
    for (const name of names) {
      this.get(name);
      chosen.add(name);
      for (const down of this.reachable(name, 'down')) chosen.add(down);
    }
    return this.order.filter((n) => chosen.has(n));
  }

  /**
   * The assets to run, in dependency order. No names means the whole graph; `withUpstream` adds
   * everything the named assets depend on.
   */
  select(names: readonly string[] | undefined, options: { withUpstream?: boolean } = {}): AssetDefinition[] {
    if (!names || names.length === 0) return [...this.assets];
    const chosen = new Set<string>();
    for (const name of names) {
      this.get(name);
      chosen.add(name);
      if (options.withUpstream) for (const up of this.reachable(name, 'up')) chosen.add(up);
    }
    return this.assets.filter((a) => chosen.has(a.name));
  }
}

function topologicalOrder(assets: readonly AssetDefinition[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const byName = new Map(assets.map((a) => [a.name, a]));
  const visit = (name: string, path: string[]) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting')
      throw new AssetGraphError(`asset dependency cycle: ${[...path, name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const dep of byName.get(name)?.deps ?? []) visit(dep, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const asset of assets) visit(asset.name, []);
  return order;
}
