import { type ReactNode, useState } from 'react';
import { Link } from '../router.js';
import { currentTheme, setTheme } from '../theme.js';

const ICONS: Record<string, string> = {
  insights: 'M4 19V9m6 10V5m6 14v-7m4 7H3',
  assets: 'M6 6h4v4H6zM14 14h4v4h-4zM14 6h4v4h-4zM10 8h4M16 10v4M8 10v6h6',
  runs: 'M5 4l14 8-14 8z',
  automation: 'M12 8v4l3 2M21 12a9 9 0 1 1-9-9 9 9 0 0 1 9 9z',
  data: 'M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zm0 0v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3',
  sql: 'M8 9l-4 3 4 3m8-6l4 3-4 3m-6 4l4-12',
  budgets: 'M12 3a9 9 0 1 0 9 9h-9zM15 3.5A9 9 0 0 1 20.5 9H15z',
  alerts: 'M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0',
  invoices: 'M6 3h9l4 4v14H6zM14 3v5h5M9 12h7M9 16h5',
};

const NAV = [
  { path: '/insights', label: 'Insights', icon: 'insights' },
  { path: '/assets', label: 'Assets', icon: 'assets' },
  { path: '/runs', label: 'Runs', icon: 'runs' },
  { path: '/automation', label: 'Automation', icon: 'automation' },
  { path: '/data', label: 'Data', icon: 'data' },
  { path: '/sql', label: 'SQL', icon: 'sql' },
  { path: '/budgets', label: 'Budgets', icon: 'budgets' },
  { path: '/alerts', label: 'Alerts', icon: 'alerts' },
  { path: '/invoices', label: 'Invoices', icon: 'invoices' },
] as const;

function Icon(props: { name: string }) {
  return (
    <svg
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.8"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
    >
      <path d={ICONS[props.name] ?? ''} />
    </svg>
  );
}

export function Layout(props: { path: string; children: ReactNode }) {
  const [theme, setThemeState] = useState(currentTheme);
  const toggle = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    setTheme(next);
    setThemeState(next);
  };
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="main">
        <div className="brand">
          <img src="/favicon.svg" alt="" />
          <span>billing-pipeline</span>
        </div>
        {NAV.map((item) => (
          <Link
            key={item.path}
            to={item.path}
            className={`nav-link${props.path.startsWith(item.path) ? ' active' : ''}`}
          >
            <Icon name={item.icon} />
            <span>{item.label}</span>
          </Link>
        ))}
        <div className="sidebar-foot">
          <button
            type="button"
            onClick={toggle}
            aria-label="toggle dark mode"
            title="Toggle light/dark theme"
          >
            {theme === 'dark' ? '☀' : '☾'}{' '}
            <span className="label">{theme === 'dark' ? 'Light theme' : 'Dark theme'}</span>
          </button>
          <a href="/api/openapi.json" className="label" target="_blank" rel="noreferrer">
            API (OpenAPI)
          </a>
        </div>
      </nav>
      <main className="main">{props.children}</main>
    </div>
  );
}

export function PageHead(props: { title: ReactNode; sub?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <h1>{props.title}</h1>
        {props.sub && <div className="sub">{props.sub}</div>}
      </div>
      {props.actions && <div className="row">{props.actions}</div>}
    </div>
  );
}
