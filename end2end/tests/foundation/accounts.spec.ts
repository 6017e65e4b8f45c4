import { test, expect, hydrated, uniqueEmail } from '../fixtures';

test('register, sign out, sign in: the name shows in the navigation bar', async ({ page }) => {
  const email = uniqueEmail('reg');
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Display name').fill('Playwright Pat');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('lantern-river-77');
  await page.getByRole('button', { name: 'Create account' }).click();

  const nav = page.getByRole('banner');
  await expect(nav.getByRole('link', { name: 'Playwright Pat' })).toBeVisible();
  await expect(page).toHaveURL(/\/$/);

  await nav.getByRole('button', { name: 'Sign out' }).click();
  await expect(nav.getByRole('link', { name: 'Sign in' })).toBeVisible();

  await nav.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Email').fill(email.toUpperCase());
  await page.getByLabel('Password').fill('lantern-river-77');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(nav.getByRole('link', { name: 'Playwright Pat' })).toBeVisible();

  await nav.getByRole('link', { name: 'Playwright Pat' }).click();
  await expect(page.getByRole('heading', { name: 'My profile' })).toBeVisible();
  await expect(page.getByTestId('profile-name')).toHaveText('Playwright Pat');
});

test('the register form checks the password as you type (only with WASM)', async ({ page }) => {
  await page.goto('/register');
  await hydrated(page);
  const password = page.getByLabel('Password');
  await password.pressSequentially('short');
  await expect(page.getByText('Must be at least 10 characters.')).toBeVisible();
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await password.fill('qwertyuiop');
  await expect(page.getByText('This password is too common; choose another.')).toBeVisible();
  await password.fill('quiet-meadow-31');
  await expect(password).toHaveAttribute('aria-invalid', 'false');
});

test.describe('refusals', () => {
  test.use({ allowClientErrors: true });

  test('a wrong password is refused with a clear message', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill('sam@eventhub.test');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('The email or password is not correct.');
  });
});

test('visitors asking for /me are sent to sign in and brought back', async ({ page }) => {
  await page.goto('/me');
  await expect(page).toHaveURL(/\/login\?next=%2Fme|\/login\?next=\/me/);
  await hydrated(page);
  await page.getByLabel('Email').fill('dana@eventhub.test');
  await page.getByLabel('Password').fill('demo-user-2026');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'My profile' })).toBeVisible();
  await expect(page.getByTestId('profile-name')).toHaveText('Dana Levi');
});
