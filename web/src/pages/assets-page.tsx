import { Graph, layout } from '@dagrejs/dagre';
import {
  Background,
  Controls,
  type Edge,
  Handle,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
} from '@xyflow/react';
import { useMemo, useState } from 'react';
import { DataTable } from '../components/data-table.js';
import { PageHead } from '../components/layout.js';
import { useMaterialize } from '../components/materialize-confirm.js';
import { PARTITION_LEGEND } from '../components/partition-bar.js';
import { Async, Card, StatusBadge } from '../components/ui.js';
import { count, duration, relative } from '../format.js';
import { useGet } from '../hooks.js';
import { Link, navigate } from '../router.js';
import type { AssetGraphResponse, AssetSummary, PartitionCounts } from '../types.js';

const NODE_WIDTH = 230;
const NODE_HEIGHT = 84;

/**
 * The graph is never zoomed out below this, so node labels keep a readable size (13.5 px names
 * render at about 12.8 px); a graph wider than the card is panned by dragging instead.
 */
const MIN_ZOOM = 0.95;
const PADDING = 20;

/** Left-to-right layered layout (dagre), so lineage reads like the pipeline runs. */
function layoutGraph(data: AssetGraphResponse): {
  nodes: Node<{ asset: AssetSummary }>[];
  edges: Edge[];
  height: number;
} {
  const g = new Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 70, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const asset of data.assets) g.setNode(asset.name, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of data.edges) g.setEdge(edge.source, edge.target);
  layout(g);
  const height = g.graph().height ?? NODE_HEIGHT;
  const nodes = data.assets.map((asset) => {
    const p = g.node(asset.name);
    return {
      id: asset.name,
      type: 'asset',
      position: { x: (p?.x ?? 0) - NODE_WIDTH / 2, y: (p?.y ?? 0) - NODE_HEIGHT / 2 },
      data: { asset },
      draggable: false,
    };
  });
  const edges = data.edges.map((e) => ({
    id: `${e.source}->${e.target}`,
    source: e.source,
    target: e.target,
    animated: data.assets.find((a) => a.name === e.target)?.status === 'running',
  }));
  return { nodes, edges, height };
}

export function PartitionMiniBar(props: { counts: PartitionCounts }) {
  const total = Object.values(props.counts).reduce((n, v) => n + v, 0);
  if (total === 0) return <div className="minibar" />;
  return (
    <div
      className="minibar"
      title={PARTITION_LEGEND.map(
        (l) => `${props.counts[l.name as keyof PartitionCounts] ?? 0} ${l.name}`,
      ).join(', ')}
    >
      {PARTITION_LEGEND.map((l) => {
        const n = props.counts[l.name as keyof PartitionCounts] ?? 0;
        return n > 0 ? (
          <div key={l.code} style={{ width: `${(n / total) * 100}%`, background: l.color }} />
        ) : null;
      })}
    </div>
  );
}

function AssetNode(props: NodeProps<Node<{ asset: AssetSummary }>>) {
  const a = props.data.asset;
  return (
    <div className="asset-node" data-asset={a.name}>
      <Handle type="target" position={Position.Left} />
      <div className="name">{a.name}</div>
      <div className="row" style={{ gap: 6 }}>
        <StatusBadge status={a.status} label={a.status ?? 'never run'} />
        <StatusBadge status={a.freshness} />
      </div>
      {a.partitions && <PartitionMiniBar counts={a.partitions} />}
      <div className="meta">
        <span>
          {a.partitioning === 'daily'
            ? `${count(a.partitions ? Object.values(a.partitions).reduce((n, v) => n + v, 0) : 0)} days`
            : a.group}
        </span>
        <span>{relative(a.last_success_at)}</span>
      </div>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { asset: AssetNode };

export function AssetsPage() {
  const state = useGet('/api/assets', {}, { pollMs: 4000 });
  const graph = useMemo(() => (state.data ? layoutGraph(state.data) : null), [state.data]);
  const materialize = useMaterialize();
  const [from, setFrom] = useState('');
  const stale = state.data?.assets.filter((a) => a.freshness !== 'fresh').length ?? 0;
  const start = from || state.data?.assets[0]?.name || '';
  return (
    <div className="stack">
      <PageHead
        title="Assets"
        sub="The lineage graph: every table the pipeline maintains, its latest run and whether it is up to date."
        actions={
          <div className="asset-actions">
            <button
              type="button"
              className="primary"
              disabled={materialize.busy || !state.data}
              onClick={() => materialize.ask({ scope: 'stale' })}
              title="Rebuild every stale or never-built asset and everything downstream of them"
            >
              Materialize stale{state.data ? ` (${count(stale)} stale)` : ''}
            </button>
            <label className="field">
              Asset
              <select
                value={start}
                onChange={(e) => setFrom(e.target.value)}
                aria-label="asset to start from"
              >
                {state.data?.assets.map((a) => (
                  <option key={a.name} value={a.name}>
                    {a.name}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              disabled={materialize.busy || !start}
              onClick={() => materialize.ask({ scope: 'downstream', asset: start })}
              title="Rebuild the chosen asset from what is new upstream, and everything downstream of it"
            >
              Materialize with downstream
            </button>
            <button
              type="button"
              disabled={materialize.busy || !state.data}
              onClick={() => materialize.ask({ scope: 'all' })}
              title="Run every asset on new and changed data"
            >
              Materialize all
            </button>
          </div>
        }
      />
      {materialize.dialog}
      <Card flush>
        <Async
          state={state}
          lines={8}
          empty={(d) => (d.assets.length === 0 ? 'No assets are defined.' : null)}
        >
          {() =>
            graph && (
              <div className="graph" style={{ height: graph.height + 2 * PADDING, minHeight: 0 }}>
                <ReactFlow
                  nodes={graph.nodes}
                  edges={graph.edges}
                  nodeTypes={nodeTypes}
                  // Left-aligned at full size rather than fitted (which shrank labels to ~7 px).
                  defaultViewport={{ x: PADDING, y: PADDING, zoom: 1 }}
                  preventScrolling={false}
                  zoomOnScroll={false}
                  nodesConnectable={false}
                  onNodeClick={(_, node) => navigate(`/assets/${encodeURIComponent(node.id)}`)}
                  proOptions={{ hideAttribution: true }}
                  minZoom={MIN_ZOOM}
                >
                  <Background gap={18} size={1} />
                  <Controls showInteractive={false} />
                </ReactFlow>
              </div>
            )
          }
        </Async>
      </Card>
      <Card title="Catalog" flush>
        {state.data && (
          <DataTable
            label="assets"
            rows={state.data.assets}
            rowKey={(a) => a.name}
            onRowClick={(a) => navigate(`/assets/${encodeURIComponent(a.name)}`)}
            columns={[
              {
                key: 'name',
                label: 'Asset',
                render: (a) => (
                  <Link to={`/assets/${a.name}`}>
                    <code>{a.name}</code>
                  </Link>
                ),
              },
              {
                key: 'status',
                label: 'Latest run',
                render: (a) => <StatusBadge status={a.status} label={a.status ?? 'never run'} />,
              },
              { key: 'freshness', label: 'Freshness', render: (a) => <StatusBadge status={a.freshness} /> },
              {
                key: 'partitions',
                label: 'Days',
                render: (a) =>
                  a.partitions ? (
                    <div style={{ width: 140 }}>
                      <PartitionMiniBar counts={a.partitions} />
                    </div>
                  ) : (
                    <span className="hint">not partitioned</span>
                  ),
              },
              { key: 'last', label: 'Last success', render: (a) => relative(a.last_success_at) },
              { key: 'dur', label: 'Duration', num: true, render: (a) => duration(a.latest_duration_ms) },
              {
                key: 'description',
                label: 'What it is',
                wrap: true,
                render: (a) => <span className="hint">{a.description}</span>,
              },
            ]}
          />
        )}
      </Card>
    </div>
  );
}
