import { test, expect, hydrated, signIn, uniqueEmail } from '../fixtures';

test('a user asks to become an organizer, an admin approves, and the user gets the dashboard', async ({ page, browser, request }) => {
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
});
