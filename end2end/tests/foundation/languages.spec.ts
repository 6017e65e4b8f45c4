import { Page } from '@playwright/test';
import { test, expect, hydrated } from '../fixtures';

/** Opens the header's language switcher and posts the choice (a form, not a link). */
async function switchLanguage(page: Page, nativeName: string) {
  await page.locator('.lang-switcher summary').click();
  await page.getByRole('button', { name: nativeName, exact: true }).click();
}

test('the Hebrew home page is right to left', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  await switchLanguage(page, 'עברית');
  await expect(page).toHaveURL(/\/$/);
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
  await switchLanguage(page, 'English');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Find your next night out');
  if (process.env.SCREENSHOTS) await page.screenshot({ path: `${process.env.SCREENSHOTS}/home-en.png`, fullPage: true });
  await context.close();
});

test('a GET to /lang changes nothing', async ({ page }) => {
  const res = await page.request.get('/lang?to=he&back=/', { maxRedirects: 0 });
  expect(res.status()).toBe(405);
  expect(res.headers()['set-cookie']).toBeUndefined();
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the switcher posts the choice and comes back to the same page', async ({ page }) => {
    await page.goto('/events?q=jazz');
    await switchLanguage(page, 'Polski');
    await expect(page).toHaveURL(/\/events\?q=jazz$/);
    await expect(page.locator('html')).toHaveAttribute('lang', 'pl');
    await expect(page.getByRole('searchbox')).toHaveValue('jazz');
  });
});

test.describe('missing pages', () => {
  test.use({ allowClientErrors: true });

  test('an unknown page answers 404 with a way home', async ({ page }) => {
  const res = await page.goto('/no-such-page');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
});
