import { defineConfig } from 'vitest/config';

// End-to-end tests of the real Tauri app (target/debug/tern-app) under Xvfb through
// tauri-driver, against `tern serve`. Run by `npm run test:app` (scripts/test.sh
// builds the UI, the app and the CLI first).
export default defineConfig({
  test: {
    include: ['e2e-app/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 240_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
