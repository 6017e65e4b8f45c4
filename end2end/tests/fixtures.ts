import { test as base, expect, Page } from '@playwright/test';
import { createHmac } from 'node:crypto';

/**
 * Fails a test on any console error or uncaught page error. A test that provokes a 4xx answer on
 * purpose sets `allowClientErrors`: Chromium logs those responses as console errors.
 */
export const test = base.extend<{ allowClientErrors: boolean; consoleErrors: string[] }>({
  allowClientErrors: [false, { option: true }],
  consoleErrors: [async ({ page, allowClientErrors }, use) => {
    const errors: string[] = [];
    const expected = /Failed to load resource: the server responded with a status of 4\d\d/;
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (allowClientErrors && expected.test(m.text())) return;
      errors.push(m.text());
    });
    await use(errors);
    expect(errors, 'console errors').toEqual([]);
  }, { auto: true }],
});
export { expect };

/** Resolves once the WASM client has hydrated the page (the body gets `data-hydrated`). */
export async function hydrated(page: Page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ timeout: 30_000 });
}

export function uniqueEmail(prefix: string) {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Signs in through the login form and waits for the signed-in header. */
export async function signIn(page: Page, email: string, password: string) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('banner').getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** RFC 4648 base32 → bytes. */
function base32(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The authenticator app's code (RFC 6238: SHA-1, 6 digits, 30 s) `steps` steps from now. */
export function totp(secret: string, steps = 0): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + steps));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}
