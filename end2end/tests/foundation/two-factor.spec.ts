import { test, expect, hydrated, uniqueEmail } from '../fixtures';
import { createHmac } from 'node:crypto';

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
function totp(secret: string, steps = 0): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + steps));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

test.describe('two-factor sign-in', () => {
  // A wrong code is refused on purpose: a 422 the browser logs.
  test.use({ allowClientErrors: true });

  test('set up from /me/security with the QR code, then signing in asks for the next code', async ({ page, request }) => {
    const email = uniqueEmail('totp');
    const password = 'granite-lily-42';
    const registered = await request.post('/api/v1/auth/register', {
      data: { email, password, display_name: 'Tami Totp' },
    });
    expect(registered.status()).toBe(201);

    await page.goto('/login?next=/me/security');
    await hydrated(page);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Two-factor sign-in', level: 2 })).toBeVisible();

    await page.getByTestId('two-factor-start').click();
    const panel = page.getByTestId('two-factor');
    await expect(panel.locator('.qr svg')).toBeVisible();
    const secret = (await page.getByTestId('two-factor-secret').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    await panel.getByLabel('Code from your authenticator app').fill('12345');
    await panel.getByRole('button', { name: 'Turn on' }).click();
    await expect(panel.getByText('That code is not correct or was used already.').first()).toBeVisible();
    await panel.getByLabel('Code from your authenticator app').fill(totp(secret));
    await panel.getByRole('button', { name: 'Turn on' }).click();
    await expect(page.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
    await expect(page.getByTestId('two-factor-on')).toBeVisible();

    // The codes are shown once.
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId('two-factor-on')).toBeVisible();
    await expect(page.getByTestId('recovery-codes')).toHaveCount(0);
    await expect(page.getByTestId('recovery-left')).toContainText('10');

    const nav = page.getByRole('banner');
    await nav.getByRole('button', { name: 'Sign out' }).click();
    await expect(nav.getByRole('link', { name: 'Sign in' })).toBeVisible();

    await page.goto('/login');
    await hydrated(page);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/login\/code/);
    await expect(page.getByRole('heading', { name: 'Two-factor sign-in', level: 1 })).toBeVisible();
    await expect(nav.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
    // The code that turned it on is spent; the next step's code signs in.
    await page.getByLabel('Code').fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(nav.getByRole('link', { name: 'Tami Totp' })).toBeVisible();
  });
});
