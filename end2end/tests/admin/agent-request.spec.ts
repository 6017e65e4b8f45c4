import { test, expect, hydrated, signIn, uniqueEmail } from '../fixtures';

test('a user asks to become an organizer, an admin approves, the new organizer publishes an event, and the admin sees it in the reports', async ({ page, browser, request }) => {
  const email = uniqueEmail('organizer');
  const organisation = `Rooftop Jazz ${Date.now()}`;
  const registered = await request.post('/api/v1/auth/register', {
    data: { email, password: 'granite-lily-42', display_name: 'Roni Rooftop' },
  });
  expect(registered.status()).toBe(201);

  await signIn(page, email, 'granite-lily-42');
  await page.goto('/me');
  await hydrated(page);
  const panel = page.getByTestId('agent-request');
  await panel.getByLabel('Organisation').fill(organisation);
  await panel.getByLabel('What do you organise?').fill('Jazz on the roof every summer Friday.');
  await panel.getByRole('button', { name: 'Send request' }).click();
  await expect(panel.locator('[data-status="pending"]')).toContainText(organisation);
  await expect(page.getByRole('banner').getByRole('link', { name: 'Organizer dashboard' })).toHaveCount(0);

  const admin = await browser.newPage();
  await signIn(admin, 'admin@eventhub.test', 'demo-admin-2026');
  await admin.getByRole('banner').getByRole('link', { name: 'Admin', exact: true }).click();
  await admin.getByRole('link', { name: /Organizer requests/ }).click();
  const item = admin.locator('li.request').filter({ hasText: organisation });
  await expect(item).toHaveAttribute('data-status', 'pending');
  await hydrated(admin);
  await item.getByRole('button', { name: 'Approve' }).click();
  await expect(admin.locator('li.request').filter({ hasText: organisation })).toHaveCount(0);
  await admin.goto('/admin/agent-requests?status=approved');
  await expect(admin.locator('li.request').filter({ hasText: organisation })).toHaveAttribute('data-status', 'approved');
  await admin.goto('/admin/audit?action=agent_request');
  await expect(admin.locator('tr[data-action="agent_request.approve"]').first()).toContainText('agent_request:');
  await admin.close();

  // At the next page load the user is an organizer: the dashboard is in the navigation.
  await page.reload();
  await expect(page.locator('[data-notice="agent_approved"]')).toBeVisible();
  await page.getByRole('banner').getByRole('link', { name: 'Organizer dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'My events' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'New event' })).toBeVisible();

  // The new organizer creates and publishes an event.
  const title = `Rooftop Session ${Date.now()}`;
  await page.getByRole('link', { name: 'New event' }).click();
  await hydrated(page);
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('One-line summary').fill('Jazz under the stars');
  await page.getByLabel('Description').fill('A quartet plays on the roof until midnight.');
  await page.getByLabel('Category').selectOption('music');
  await page.getByLabel('Starts').fill('2032-03-14T20:00');
  await page.getByLabel('Ends').fill('2032-03-14T23:00');
  await page.getByLabel('Venue', { exact: true }).fill('The Roof');
  await page.getByLabel('City', { exact: true }).fill('Haifa');
  await page.getByLabel('Capacity (all ticket types together)').fill('40');
  const ticket = page.locator('.ticket-row').nth(0);
  await ticket.getByLabel('Price').fill('60');
  await ticket.getByLabel('Quantity').fill('40');
  await page.getByRole('button', { name: 'Save event' }).click();
  const row = page.getByRole('row').filter({ hasText: title });
  await expect(row).toContainText('Draft');
  await row.getByRole('button', { name: 'Publish' }).click();
  await expect(row).toContainText('Published');

  // The admin opens the reports for that day: each chart is an SVG with its table, and the
  // utilisation table lists the event.
  const reports = await browser.newPage();
  await signIn(reports, 'admin@eventhub.test', 'demo-admin-2026');
  await reports.goto('/admin');
  await reports.getByRole('link', { name: /Reports/ }).click();
  await expect(reports.getByRole('heading', { level: 1, name: 'Reports' })).toBeVisible();
  await reports.getByLabel('From').fill('2032-03-14');
  await reports.getByLabel('Until').fill('2032-03-14');
  await reports.getByRole('button', { name: 'Show report' }).click();
  await expect(reports).toHaveURL(/from=2032-03-14/);
  const byEvent = reports.locator('figure[data-chart="by-event"]');
  await expect(byEvent.locator('svg')).toBeVisible();
  const eventRow = byEvent.getByRole('row').filter({ hasText: title });
  await expect(eventRow).toContainText('40');
  await expect(eventRow).toContainText('0.0');
  await expect(reports.locator('figure[data-chart] svg')).toHaveCount(5);
  await expect(reports.getByTestId('report-totals')).toContainText('Events');
  const [download] = await Promise.all([
    reports.waitForEvent('download'),
    byEvent.getByRole('link', { name: 'Download CSV' }).click(),
  ]);
  const csv = Buffer.concat(await (await download.createReadStream()).toArray()).toString('utf8');
  expect(csv).toContain(`${title},40,0,0.0`);

  // And features it on the home page from the events table.
  await reports.goto(`/admin/events?organizer=${encodeURIComponent(email)}`);
  await hydrated(reports);
  const adminRow = reports.locator('tr[data-event]').filter({ hasText: title });
  await adminRow.getByRole('button', { name: 'Feature on home' }).click();
  await expect(adminRow.getByRole('button', { name: 'Remove from home' })).toBeVisible();
  await reports.goto('/');
  await expect(reports.getByTestId('featured').getByRole('link', { name: title })).toBeVisible();
  await reports.close();
});

test('the Hebrew reports page is right to left, with its charts and tables', async ({ page, baseURL }) => {
  await signIn(page, 'admin@eventhub.test', 'demo-admin-2026');
  // The language cookie alone (the switcher would also change the demo admin's profile).
  await page.context().addCookies([{ name: 'eventhub_lang', value: 'he', url: baseURL! }]);
  await page.goto('/admin/reports');
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('דוחות');
  await expect(page.locator('figure[data-chart] svg')).toHaveCount(5);
  await expect(page.locator('figure[data-chart="by-category"] th').first()).toHaveText('קטגוריה');
  await hydrated(page);
  if (process.env.SCREENSHOTS) await page.screenshot({ path: `${process.env.SCREENSHOTS}/reports-he.png`, fullPage: true });
});
