import { test, expect, hydrated, totp, uniqueEmail } from '../fixtures';

for (const js of [true, false]) test.describe(`two-factor sign-in, JavaScript ${js ? 'on' : 'off'}`, () => {
  test.use({ javaScriptEnabled: js });
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
    if (js) await hydrated(page);
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
    const recovery = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
    await expect(page.getByTestId('two-factor-on')).toBeVisible();

    // The codes are shown once.
    await page.reload();
    if (js) await hydrated(page);
    await expect(page.getByTestId('two-factor-on')).toBeVisible();
    await expect(page.getByTestId('recovery-codes')).toHaveCount(0);
    await expect(page.getByTestId('recovery-left')).toContainText('10');

    const nav = page.getByRole('banner');
    await nav.getByRole('button', { name: 'Sign out' }).click();
    await expect(nav.getByRole('link', { name: 'Sign in' })).toBeVisible();

    // The password alone leads to the second step, not in yet.
    const passwordStep = async () => {
      await page.goto('/login');
      if (js) await hydrated(page);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page).toHaveURL(/\/login\/code/);
    };
    await passwordStep();
    await expect(page.getByRole('heading', { name: 'Two-factor sign-in', level: 1 })).toBeVisible();
    await expect(nav.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
    // The code that turned it on is spent; the next step's code signs in.
    await page.getByLabel('Code').fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(nav.getByRole('link', { name: 'Tami Totp' })).toBeVisible();

    // A recovery code stands in for the app once.
    for (const expected of ['signed in', 'refused']) {
      await nav.getByRole('button', { name: 'Sign out' }).click();
      await passwordStep();
      await page.getByLabel('Code').fill(recovery[0]);
      await page.getByRole('button', { name: 'Verify' }).click();
      if (expected === 'refused') {
        await expect(page.getByText('That code is not correct or was used already.').first()).toBeVisible();
        break;
      }
      await expect(nav.getByRole('link', { name: 'Tami Totp' })).toBeVisible();
      await page.goto('/me/security');
      await expect(page.getByTestId('recovery-left')).toContainText('9');
    }
  });
});
