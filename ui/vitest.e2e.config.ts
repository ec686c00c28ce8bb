import { defineConfig } from 'vitest/config';

// Browser tests: Debian's Chromium through playwright-core, against `vite preview`
// of the built app and dashboard with the FakeBackend. Run by `npm run test:e2e`.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
