import { test, expect, hydrated } from '../fixtures';

test('the Hebrew home page is right to left', async ({ page }) => {
  await page.goto('/lang?to=he&back=/');
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(page.locator('html')).toHaveAttribute('lang', 'he');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('מצאו את הערב הבא שלכם');
  await hydrated(page);
  if (process.env.SCREENSHOTS) await page.screenshot({ path: `${process.env.SCREENSHOTS}/home-he.png`, fullPage: true });
});

test('the browser language is honoured and the switcher remembers a choice', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'pl-PL' });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'pl');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Znajdź swój następny wieczór');
  await page.locator('.lang-switcher summary').click();
  await page.getByRole('link', { name: 'English' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Find your next night out');
  if (process.env.SCREENSHOTS) await page.screenshot({ path: `${process.env.SCREENSHOTS}/home-en.png`, fullPage: true });
  await context.close();
});

test.describe('missing pages', () => {
  test.use({ allowClientErrors: true });

  test('an unknown page answers 404 with a way home', async ({ page }) => {
  const res = await page.goto('/no-such-page');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
});
