import { test, expect, hydrated, signIn, uniqueEmail } from '../fixtures';
import type { APIRequestContext } from '@playwright/test';

async function token(request: APIRequestContext, email: string, password: string) {
  const reply = await request.post('/api/v1/auth/token', { data: { email, password } });
  expect(reply.ok()).toBeTruthy();
  return `Bearer ${(await reply.json()).access_token}`;
}

/** A published free event, made through the REST API as the demo agent. */
async function freeEvent(request: APIRequestContext, title: string) {
  const auth = await token(request, 'noa@eventhub.test', 'demo-agent-2026');
  const starts = new Date(Date.now() + 21 * 24 * 3600 * 1000);
  const ends = new Date(starts.getTime() + 2 * 3600 * 1000);
  const created = await request.post('/api/v1/events', {
    headers: { authorization: auth },
    data: {
      title, summary: 'Mail check', description: 'A room for the mail test.', category: 'music', tags: [],
      starts_at: starts.toISOString(), ends_at: ends.toISOString(), timezone: 'Asia/Jerusalem',
      venue: 'Post Room', address: '2 Letter St', city: 'Haifa', capacity: 10,
      ticket_types: [{ name: 'Seat', price: { amount: 0, currency: 'ILS' }, quantity: 10, max_per_registration: 2 }],
    },
  });
  expect(created.status()).toBe(201);
  const id = (await created.json()).event.id;
  expect((await request.post(`/api/v1/events/${id}/publish`, { headers: { authorization: auth } })).ok()).toBeTruthy();
  return id as string;
}

test('a user books a seat and the admin reads the confirmation in /admin/mail, then looks at /admin/jobs', async ({ page, browser, request }) => {
  const title = `Post Room ${Date.now()}`;
  const id = await freeEvent(request, title);
  const email = uniqueEmail('mail');
  const registered = await request.post('/api/v1/auth/register', {
    data: { email, password: 'granite-lily-42', display_name: 'Mia Mailer' },
  });
  expect(registered.status()).toBe(201);

  // The user books one seat on the event page.
  await signIn(page, email, 'granite-lily-42');
  await page.goto(`/events/${id}`);
  await hydrated(page);
  await page.getByLabel('Seats — Seat').selectOption('1');
  await page.getByRole('button', { name: 'Book' }).click();
  await expect(page.getByTestId('booking-outcome')).toContainText('1 seat(s) confirmed');

  // The admin finds it from the overview; the server's workers send it within moments.
  const admin = await browser.newPage();
  await signIn(admin, 'admin@eventhub.test', 'demo-admin-2026');
  await admin.getByRole('banner').getByRole('link', { name: 'Admin', exact: true }).click();
  await admin.getByRole('link', { name: /^Mail/ }).click();
  await expect(admin.getByRole('heading', { name: 'Mail', level: 1 })).toBeVisible();
  await admin.getByPlaceholder('Recipient address contains').fill(email.toUpperCase());
  await admin.locator('form.search-form').getByRole('button').click();
  await expect(admin).toHaveURL(/\/admin\/mail\?to=/);
  // Two mails to this address: the request to confirm it (sign-up) and the booking's.
  const toHer = admin.locator('tr[data-mail]').filter({ hasText: email });
  const row = toHer.filter({ hasText: title });
  for (let i = 0; i < 30 && (await row.count()) === 0; i++) {
    await admin.waitForTimeout(500);
    await admin.reload();
  }
  await expect(row).toHaveCount(1);
  await expect(toHer).toHaveCount(2);
  await expect(toHer.filter({ hasText: 'Confirm your email address' })).toHaveCount(1);
  await expect(row.getByRole('link')).toContainText(title);

  // One mail: recipient, subject, the time it was sent, the text and the framed HTML.
  await row.getByRole('link').click();
  await expect(admin).toHaveURL(/\/admin\/mail\/\d+$/);
  await expect(admin.getByRole('heading', { level: 1 })).toContainText(title);
  await expect(admin.locator('.mail-meta')).toContainText(email);
  for (let i = 0; i < 20 && (await admin.getByTestId('mail-sent').textContent())?.includes('not sent yet'); i++) {
    await admin.waitForTimeout(500);
    await admin.reload();
  }
  await expect(admin.getByTestId('mail-sent')).toContainText('UTC');
  await expect(admin.locator('pre.mail-text')).toContainText(title);
  const frame = admin.locator('iframe.mail-frame');
  await expect(frame).toHaveAttribute('sandbox', '');
  await expect(admin.frameLocator('iframe.mail-frame').locator('body')).toContainText(title);

  // The queue: the mail job is done, nothing is dead from this booking.
  await admin.goto('/admin');
  await admin.getByRole('link', { name: /^Jobs/ }).click();
  await expect(admin.getByRole('heading', { name: 'Jobs', level: 1 })).toBeVisible();
  const mailRow = admin.locator('table.job-depth tr[data-kind="mail"]');
  await expect(mailRow).toBeVisible();
  expect(Number(await mailRow.locator('td').nth(2).textContent())).toBeGreaterThanOrEqual(1);
  await expect(admin.getByRole('heading', { name: 'Running now' })).toBeVisible();
  await admin.getByLabel('State').selectOption('done');
  await admin.getByLabel('Kind').fill('mail');
  await admin.locator('form.search-form').getByRole('button').click();
  await expect(admin).toHaveURL(/state=done&kind=mail/);
  await expect(admin.locator('table.jobs tr[data-state="done"]').first()).toBeVisible();
  await admin.close();
});
