import { defineConfig } from '@playwright/test';

// Runs against the release server (scripts/build) on a throwaway data dir with demo data.
// Browsers are never downloaded: Debian's Chromium is used (CHROMIUM overrides the path).
const port = process.env.E2E_PORT ?? '3107';
const baseURL = `http://127.0.0.1:${port}`;
const dataDir = '../target/e2e-data';
const aiDataDir = '../target/e2e-data-ai';

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list'], ['html', { open: 'never', outputFolder: '../target/playwright-report' }]],
  outputDir: '../target/playwright-results',
  use: {
    baseURL,
    locale: 'en-US',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: [
    {
      command: `rm -rf ${dataDir} && ../target/release/eventhub seed-demo && exec ../target/release/eventhub serve`,
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: {
        EVENTHUB_ADDR: `127.0.0.1:${port}`,
        EVENTHUB_DATA_DIR: dataDir,
        EVENTHUB_SITE_ROOT: '../target/site',
        // Every spec signs up its own accounts from 127.0.0.1: more than a person would.
        EVENTHUB_SIGNUP_RATE: 'off',
        // The webhook spec's receiver listens on 127.0.0.1.
        EVENTHUB_WEBHOOKS_ALLOW_PRIVATE: 'true',
        RUST_LOG: 'warn',
      },
    },
    // The assistant with a language model: a fake Ollama and a second server that uses it.
    {
      command: 'exec node fake-ollama.mjs',
      url: 'http://127.0.0.1:3117/api/tags',
      reuseExistingServer: false,
      timeout: 20_000,
      env: { FAKE_OLLAMA_PORT: '3117' },
    },
    {
      command: `rm -rf ${aiDataDir} && ../target/release/eventhub seed-demo && exec ../target/release/eventhub serve`,
      url: 'http://127.0.0.1:3109/healthz',
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: {
        EVENTHUB_ADDR: '127.0.0.1:3109',
        EVENTHUB_DATA_DIR: aiDataDir,
        EVENTHUB_SITE_ROOT: '../target/site',
        EVENTHUB_OLLAMA_URL: 'http://127.0.0.1:3117',
        EVENTHUB_AI_MODELS: 'demo-model',
        RUST_LOG: 'warn',
      },
    },
  ],
});
