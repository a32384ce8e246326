import pg from 'pg';

const LEADER_KEY = 'billing-pipeline:automation-leader';

/**
 * Which of several `serve` instances evaluates sensors and schedules: the one holding a
 * session-level advisory lock on its own connection. PostgreSQL drops the lock when that
 * connection ends, so when the leader dies (even by kill -9) the next instance to ask takes over.
 * Run keys, unique in the ledger, keep a tick from making two runs even while leadership moves.
 */
export class LeaderLease {
  private client: pg.Client | null = null;
  private held = false;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly log?: (message: string) => void,
  ) {}

  /** True while this process leads; otherwise tries to become leader (cheap: one query). */
  async isLeader(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const client = await this.connect();
      if (this.held) {
        // The lock lives as long as the connection: a live connection still holds it.
        await client.query('SELECT 1');
        return true;
      }
      const { rows } = await client.query<{ got: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS got',
        [LEADER_KEY],
      );
      this.held = rows[0]?.got === true;
      if (this.held) this.log?.('this instance now runs the sensors and schedules (automation leader)');
      return this.held;
    } catch (error) {
      if (this.held)
        this.log?.(`lost automation leadership: ${error instanceof Error ? error.message : error}`);
      await this.drop();
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drop();
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.url, application_name: 'billing-pipeline-leader' });
    client.on('error', () => {
      if (this.client === client) void this.drop();
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.held = false;
    await client?.end().catch(() => {});
  }
}
