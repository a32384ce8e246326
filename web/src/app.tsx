import { type FormEvent, useState } from 'react';
import { setToken } from './api.js';
import { Layout } from './components/layout.js';
import { useApi } from './hooks.js';
import { AlertsPage } from './pages/alerts-page.js';
import { AssetPage } from './pages/asset-page.js';
import { AssetsPage } from './pages/assets-page.js';
import { AutomationPage } from './pages/automation-page.js';
import { BudgetPage } from './pages/budget-page.js';
import { BudgetsPage } from './pages/budgets-page.js';
import { DataPage } from './pages/data-page.js';
import { InsightsPage } from './pages/insights-page.js';
import { InvoicePage } from './pages/invoice-page.js';
import { RunPage } from './pages/run-page.js';
import { RunsPage } from './pages/runs-page.js';
import { SqlPage } from './pages/sql-page.js';
import { navigate, useLocation } from './router.js';

function route(path: string) {
  const [, section = '', id] = path.split('/').map(decodeURIComponent);
  switch (section) {
    case '':
    case 'insights':
      return <InsightsPage />;
    case 'assets':
      return id ? <AssetPage name={id} /> : <AssetsPage />;
    case 'runs':
      return id ? <RunPage runId={id} /> : <RunsPage />;
    case 'automation':
      return <AutomationPage />;
    case 'data':
      return <DataPage />;
    case 'sql':
      return <SqlPage />;
    case 'budgets':
      return id ? <BudgetPage id={id} /> : <BudgetsPage />;
    case 'alerts':
      return <AlertsPage />;
    case 'invoices':
      return <InvoicePage />;
    default:
      return (
        <div className="state">
          No page at {path}.{' '}
          <button type="button" onClick={() => navigate('/insights')}>
            Open the dashboard
          </button>
        </div>
      );
  }
}

/** Asks for the API token once when the server requires one (it was started bound beyond 127.0.0.1). */
function TokenGate(props: { onDone(): void }) {
  const [value, setValue] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setToken(value.trim());
    props.onDone();
  };
  return (
    <div className="state">
      <form
        className="card stack"
        style={{ maxWidth: 420, margin: '60px auto', textAlign: 'left' }}
        onSubmit={submit}
      >
        <h2>This server needs a token</h2>
        <div className="hint">
          It was started with BILLING_API_TOKEN. Paste the token to continue; it stays in this browser.
        </div>
        <input
          type="password"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="token"
          aria-label="API token"
        />
        <button type="submit" className="primary" disabled={!value.trim()}>
          Continue
        </button>
      </form>
    </div>
  );
}

export function App() {
  const location = useLocation();
  const health = useApi<{ ok: boolean }>('/api/health');
  const path = location.path === '/' ? '/insights' : location.path;
  if (health.error?.status === 401) return <TokenGate onDone={health.reload} />;
  return <Layout path={path}>{route(path)}</Layout>;
}
