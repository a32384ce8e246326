export type RunStatus = 'queued' | 'running' | 'success' | 'failed' | 'canceled';
export type AssetRunStatus = 'success' | 'failed' | 'skipped';

export function isTerminal(status: RunStatus): boolean {
  switch (status) {
    case 'queued':
    case 'running':
      return false;
    case 'success':
    case 'failed':
    case 'canceled':
      return true;
    default: {
      const unreachable: never = status;
      throw new Error(`unknown run status ${String(unreachable)}`);
    }
  }
}
