import { test, expect } from '../fixtures';

test.use({ javaScriptEnabled: false });

test('signing in works without JavaScript (plain form posts)', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Email').fill('sam@eventhub.test');
  await page.getByLabel('Password').fill('demo-user-2026');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('banner').getByRole('link', { name: 'Sam Carter' })).toBeVisible();

  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('banner').getByRole('link', { name: 'Sign in' })).toBeVisible();
});

test('without JavaScript a refused sign-in still explains why', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Email').fill('ola@eventhub.test');
  await page.getByLabel('Password').fill('definitely-wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('The email or password is not correct.');
});
