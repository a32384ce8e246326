import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The web UI. `npm run build:web` writes web/dist, which the HTTP server serves. Fingerprinted files
 * go under /static/ so they never collide with client routes such as /assets/daily_aggregates.
 * `npx vite web` proxies /api to a running `billing-pipeline dev` for UI work with hot reload.
 */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'static',
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { '/api': process.env.BILLING_API_URL ?? 'http://127.0.0.1:3000' },
  },
});
