import pg from 'pg';

/*
 * Wake-ups for the job queue. pg-boss 10 finds work by polling (every `pollingIntervalSeconds`), so
 * a queued task waited half a poll on average before a worker even looked. Whoever inserts jobs, or
 * finishes a task, also sends a NOTIFY in the same transaction (delivered only on commit, so a
 * woken worker always sees the rows); workers LISTEN on one dedicated connection and fetch at once.
 * Polling stays as the fallback: a notification lost while the listener reconnects costs one poll.
 */

/** The one channel; the payload says what happened. */
export const QUEUE_CHANNEL = 'billing_queue_events';

/** `jobs:<queue>` (jobs were inserted into `queue`) or `done:<run id>` (a task of that run finished). */
export type QueueSignal = { kind: 'jobs'; queue: string } | { kind: 'done'; runId: string };

export const NOTIFY_SQL = 'SELECT pg_notify($1, $2)';

export function signalPayload(signal: QueueSignal): string {
  return signal.kind === 'jobs' ? `jobs:${signal.queue}` : `done:${signal.runId}`;
}

export function parseSignal(payload: string | undefined): QueueSignal | null {
  if (!payload) return null;
  const colon = payload.indexOf(':');
  const kind = payload.slice(0, colon);
  const rest = payload.slice(colon + 1);
  if (kind === 'jobs') return { kind, queue: rest };
  if (kind === 'done') return { kind, runId: rest };
  return null;
}

const RECONNECT_MS = 1000;

/**
 * A LISTEN on its own connection (a pooled one would be handed to other queries, and a LISTEN
 * lives only as long as its session). Reconnects after an error, every RECONNECT_MS, until closed.
 */
export class QueueListener {
  private client: pg.Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private readonly handlers = new Set<(signal: QueueSignal) => void>();

  private constructor(private readonly url: string) {}

  /** Resolves once listening (or rejects when the first connection fails: the caller decides). */
  static async start(url: string): Promise<QueueListener> {
    const listener = new QueueListener(url);
    await listener.connect();
    return listener;
  }

  on(handler: (signal: QueueSignal) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'billing-pipeline-listen' });
    client.on('notification', (message) => {
      if (message.channel !== QUEUE_CHANNEL) return;
      const signal = parseSignal(message.payload);
      if (signal) for (const handler of this.handlers) handler(signal);
    });
    client.on('error', () => this.reconnectLater(client));
    client.on('end', () => this.reconnectLater(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${QUEUE_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
  }

  /** The connection in use went away: listen again on a new one, after a pause. */
  private reconnectLater(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    client.end().catch(() => {});
    this.scheduleConnect();
  }

  private scheduleConnect(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      // Meanwhile polling carries the queue.
      this.connect().catch(() => this.scheduleConnect());
    }, RECONNECT_MS);
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    this.handlers.clear();
    await client?.end().catch(() => {});
  }
}
