import path from 'node:path';
import { test, expect, hydrated, signIn } from '../fixtures';

test('an agent creates an event with two ticket types and an image, publishes it, and a visitor finds it', async ({ page, browser }) => {
  const word = `kaleidoscope${Date.now()}`;
  const title = `Playwright Premiere ${Date.now()}`;
  await signIn(page, 'noa@eventhub.test', 'demo-agent-2026');
  await page.getByRole('banner').getByRole('link', { name: 'Organizer dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'My events' })).toBeVisible();
  await page.getByRole('link', { name: 'New event' }).click();
  await hydrated(page);

  await page.getByLabel('Title').fill(title);
  await page.getByLabel('One-line summary').fill('A test premiere');
  await page.getByLabel('Description').fill(`An evening with a ${word} of colours.`);
  await page.getByLabel('Category').selectOption('theatre');
  await page.getByLabel('Starts').fill('2031-05-01T20:00');
  await page.getByLabel('Ends').fill('2031-05-01T22:30');
  await page.getByLabel('Venue', { exact: true }).fill('Tmuna Theatre');
  await page.getByLabel('City', { exact: true }).fill('Tel Aviv');
  await page.getByLabel('Capacity (all ticket types together)').fill('120');
  const rows = page.locator('.ticket-row');
  await rows.nth(0).getByLabel('Price').fill('80');
  await rows.nth(0).getByLabel('Quantity').fill('100');
  await rows.nth(1).getByLabel('Name').fill('VIP');
  await rows.nth(1).getByLabel('Price').fill('150.50');
  await rows.nth(1).getByLabel('Quantity').fill('20');
  await rows.nth(1).getByLabel('Max per booking').fill('2');
  await page.getByRole('button', { name: 'Save event' }).click();

  const row = page.getByRole('row').filter({ hasText: title });
  await expect(row).toContainText('Draft');

  // The image has its own form on the edit page (a plain multipart post).
  await row.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByText('No image yet.', { exact: false })).toBeVisible();
  await page.getByLabel('Image file').setInputFiles(path.join(__dirname, '..', 'assets', 'poster.png'));
  await page.getByRole('button', { name: 'Upload image' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The image is saved.' })).toBeVisible();
  const preview = page.locator('img.image-preview');
  await expect(preview).toBeVisible();
  expect(await preview.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(480);

  await page.goto('/agent');
  await row.getByRole('button', { name: 'Publish' }).click();
  await expect(row).toContainText('Published');

  const visitor = await browser.newPage();
  await visitor.goto(`/events?q=${word}&category=theatre`);
  await visitor.getByRole('link', { name: title }).click();
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText(title);
  await expect(visitor.getByText('150.50 ILS')).toBeVisible();
  await expect(visitor.getByText('VIP')).toBeVisible();
  const poster = visitor.locator('img.event-image');
  await expect(poster).toBeVisible();
  expect(await poster.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(480);
  const [download] = await Promise.all([
    visitor.waitForEvent('download'),
    visitor.getByRole('link', { name: 'Add to calendar (.ics)' }).click(),
  ]);
  const ics = await (await download.createReadStream()).toArray();
  expect(Buffer.concat(ics).toString('utf8')).toContain(`SUMMARY:${title}`);
  await visitor.close();
});

test.describe('refused input', () => {
  test.use({ allowClientErrors: true });

  test('the event form names each bad field', async ({ page }) => {
    await signIn(page, 'marek@eventhub.test', 'demo-agent-2026');
    await page.goto('/agent/events/new');
    await hydrated(page);
    await page.getByLabel('Title').fill('ab');
    await page.getByLabel('Capacity (all ticket types together)').fill('0');
    await page.getByRole('button', { name: 'Save event' }).click();
    await expect(page.getByRole('alert')).toHaveText('Please correct the highlighted fields.');
    await expect(page.getByText('Must be at least 3 characters.')).toBeVisible();
    await expect(page.getByText('Must be at least 1.')).toBeVisible();
    await expect(page.getByLabel('Title')).toHaveAttribute('aria-invalid', 'true');
  });
});
