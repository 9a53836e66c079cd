import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts/stops the shared database servers and prints which source serves each flavour.
    globalSetup: ['test/support/global-setup.ts'],
    // Real PostgreSQL / PGlite in every test file: child processes, not threads.
    pool: 'forks',
    // 2 cores; each embedded PGlite instance takes a few hundred MB.
    maxWorkers: 2,
    testTimeout: 60_000,
    // beforeAll creates the file's database (embedded PGlite starts in ~4 s).
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Hooks in registration order: if creating the file's database fails, the hooks after it do not run.
    sequence: { hooks: 'stack' },
  },
});
