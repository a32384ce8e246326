import { defineConfig } from 'vitest/config';

const shared = {
  globalSetup: ['test/support/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    projects: [
      {
        // Everything as it always ran: the pipeline tests on DuckDB.
        test: {
          ...shared,
          name: 'default',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        },
      },
      {
        // The same pipeline tests with PostgreSQL as the warehouse (a server per test file).
        test: {
          ...shared,
          name: 'postgres',
          include: ['test/pipeline/**/*.test.ts'],
          // These run both engines themselves, whatever the project.
          exclude: ['test/pipeline/backends.test.ts', 'test/pipeline/dispatch.test.ts'],
          env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', BILLING_TEST_BACKEND: 'postgres' },
        },
      },
    ],
  },
});
