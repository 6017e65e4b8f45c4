import { test, expect, hydrated, signIn, uniqueEmail } from '../fixtures';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The server under test writes its mail into its data dir (no SMTP configured).
const mailDir = join(__dirname, '../../../target/e2e-data/mail');

/** The link of `page` mailed to `to`, read from the mail folder as the server's workers write it. */
async function mailedLink(to: string, page: string): Promise<string> {
  const pattern = new RegExp(`(https?://[^\\s"]*/${page}\\?token=[0-9a-f]{64})`);
  for (let i = 0; i < 60; i++) {
    let files: string[] = [];
    try { files = readdirSync(mailDir).filter((f) => f.endsWith('.eml')); } catch { /* not written yet */ }
    for (const file of files) {
      // Quoted-printable: soft line breaks and `=3D` undone.
      const mail = readFileSync(join(mailDir, file), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      const found = mail.includes(to) ? mail.match(pattern) : null;
      if (found) return found[1];
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no ${page} link was mailed to ${to}`);
}

for (const js of [true, false]) test.describe(`recovery by mail, JavaScript ${js ? 'on' : 'off'}`, () => {
  test.use({ javaScriptEnabled: js });
  // The used link is refused on purpose: a 422 the browser logs.
  test.use({ allowClientErrors: true });

  test('forgot password: the mailed link sets a new password once and signs the person in', async ({ page, request }) => {
    const email = uniqueEmail('forgot');
    const registered = await request.post('/api/v1/auth/register', {
      data: { email, password: 'granite-lily-42', display_name: 'Rafi Reset' },
    });
    expect(registered.status()).toBe(201);

    await page.goto('/login');
    if (js) await hydrated(page);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await expect(page.getByRole('heading', { name: 'Forgot your password', level: 1 })).toBeVisible();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await expect(page.getByTestId('reset-sent')).toBeVisible();

    const link = new URL(await mailedLink(email, 'reset-password'));
    await page.goto(link.pathname + link.search);
    if (js) await hydrated(page);
    await page.getByLabel('New password').fill('harbour-walnut-63');
    await page.getByRole('button', { name: 'Save the new password' }).click();
    await expect(page.getByTestId('security-done')).toContainText('Your password is changed');
    const nav = page.getByRole('banner');
    await expect(nav.getByRole('link', { name: 'Rafi Reset' })).toBeVisible();

    // The link worked once.
    await page.goto(link.pathname + link.search);
    if (js) await hydrated(page);
    await page.getByLabel('New password').fill('another-harbour-64');
    await page.getByRole('button', { name: 'Save the new password' }).click();
    await expect(page.getByTestId('link-invalid')).toBeVisible();

    // The new password is the one that signs in.
    await nav.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, email, 'harbour-walnut-63');
    await expect(nav.getByRole('link', { name: 'Rafi Reset' })).toBeVisible();
  });

  test('a new account confirms its address from the mailed link; the banner goes away', async ({ page }) => {
    const email = uniqueEmail('verify');
    await page.goto('/register');
    if (js) await hydrated(page);
    await page.getByLabel('Display name').fill('Vera Verify');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('lantern-river-77');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByTestId('unverified-banner')).toBeVisible();

    const link = new URL(await mailedLink(email, 'verify-email'));
    await page.goto(link.pathname + link.search);
    if (js) await hydrated(page);
    await page.getByRole('button', { name: 'Confirm my address' }).click();
    await expect(page.getByTestId('email-verified')).toBeVisible();
    await expect(page.getByTestId('unverified-banner')).toHaveCount(0);
    await page.goto('/me/security');
    await expect(page.locator('[data-verified="true"]')).toBeVisible();
  });
});
