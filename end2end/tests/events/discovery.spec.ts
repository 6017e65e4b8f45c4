import { readFileSync } from 'fs';
import { test, expect, hydrated } from '../fixtures';

test('a visitor finds an event by a word and a category, opens it and downloads the .ics', async ({ page }) => {
  await page.goto('/events');
  await hydrated(page);
  await page.getByRole('searchbox', { name: 'Search events' }).fill('doors');
  await page.getByLabel('Category').selectOption('music');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/q=doors/);
  await expect(page).toHaveURL(/category=music/);
  await expect(page.getByRole('status')).toContainText('events found');
  const cards = page.locator('.event-card');
  await expect(cards.first()).toBeVisible();
  await expect(cards.first().locator('.event-card-category')).toHaveText(/music/i);

  const title = (await cards.first().getByRole('heading').innerText()).trim();
  await cards.first().getByRole('link').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
  await expect(page.getByRole('heading', { name: 'Tickets' })).toBeVisible();

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Add to calendar (.ics)' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^eventhub-\d+\.ics$/);
  const path = await download.path();
  const text = readFileSync(path, 'utf8');
  expect(text).toContain('BEGIN:VEVENT');
  expect(text).toContain('SUMMARY:');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the same search works as a plain form', async ({ page }) => {
    await page.goto('/events');
    await page.getByRole('searchbox', { name: 'Search events' }).fill('doors');
    await page.getByLabel('Category').selectOption('theatre');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page).toHaveURL(/category=theatre/);
    await expect(page.locator('.event-card').first()).toBeVisible();
    await expect(page.locator('.event-card-category').first()).toHaveText(/theatre/i);
    await page.getByRole('link', { name: 'Next' }).click();
    await expect(page).toHaveURL(/page=2/);
    await expect(page.getByText('Page 2 of')).toBeVisible();
  });
});

test('an empty result says so', async ({ page }) => {
  await page.goto('/events?q=no-such-thing-anywhere');
  await expect(page.getByText('No events match this search')).toBeVisible();
});

test('with JavaScript, results follow the search box as you type', async ({ page }) => {
  await page.goto('/events');
  await hydrated(page);
  await page.getByRole('searchbox', { name: 'Search events' }).pressSequentially('Kraków', { delay: 30 });
  await expect(page).toHaveURL(/q=Krak%C3%B3w/);
  await expect(page.locator('.event-card').first()).toContainText('Kraków');
  await expect(page.locator('.event-card-where').filter({ hasNotText: 'Kraków' })).toHaveCount(0);
});

test('the Hebrew calendar page renders right to left and moves between months', async ({ page }) => {
  await page.goto('/calendar');
  await page.locator('.lang-switcher summary').click();
  await page.getByRole('button', { name: 'עברית', exact: true }).click();
  await expect(page).toHaveURL(/\/calendar$/);
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  const heading = page.getByRole('heading', { level: 1 });
  const first = await heading.innerText();
  // The week starts on Sunday in Israel.
  await expect(page.locator('.calendar-weekday').first()).toHaveText('יום א׳');
  await page.getByRole('link', { name: 'החודש הבא' }).click();
  await expect(heading).not.toHaveText(first);
  await expect(page.locator('.calendar-day li').first()).toBeVisible();
  const grid = await page.locator('.calendar-grid').boundingBox();
  const sunday = await page.locator('.calendar-weekday').first().boundingBox();
  expect(sunday!.x).toBeGreaterThan(grid!.x + grid!.width / 2); // Sunday sits on the right
  if (process.env.SCREENSHOTS) await page.screenshot({ path: `${process.env.SCREENSHOTS}/calendar-he.png`, fullPage: true });
});
