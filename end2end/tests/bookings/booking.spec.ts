import { test, expect, hydrated, signIn } from '../fixtures';
import type { APIRequestContext } from '@playwright/test';

async function token(request: APIRequestContext, email: string, password: string) {
  const reply = await request.post('/api/v1/auth/token', { data: { email, password } });
  expect(reply.ok()).toBeTruthy();
  return `Bearer ${(await reply.json()).access_token}`;
}

/** A published event with three seats, made through the REST API as the demo agent. */
async function smallEvent(request: APIRequestContext, title: string) {
  const auth = await token(request, 'noa@eventhub.test', 'demo-agent-2026');
  const starts = new Date(Date.now() + 20 * 24 * 3600 * 1000);
  const ends = new Date(starts.getTime() + 2 * 3600 * 1000);
  const created = await request.post('/api/v1/events', {
    headers: { authorization: auth },
    data: {
      title, summary: 'Three seats only', description: 'A tiny room.', category: 'music', tags: [],
      starts_at: starts.toISOString(), ends_at: ends.toISOString(), timezone: 'Asia/Jerusalem',
      venue: 'Tiny Room', address: '1 Small St', city: 'Haifa', capacity: 3,
      ticket_types: [{ name: 'Seat', price: { amount: 0, currency: 'ILS' }, quantity: 3, max_per_registration: 2 }],
    },
  });
  expect(created.status()).toBe(201);
  const id = (await created.json()).event.id;
  expect((await request.post(`/api/v1/events/${id}/publish`, { headers: { authorization: auth } })).ok()).toBeTruthy();
  return id as string;
}

test('a user books two seats and sees QR tickets; the next one waits; a cancellation confirms them', async ({ page, browser, request }) => {
  const title = `Tiny Room ${Date.now()}`;
  const id = await smallEvent(request, title);

  // A visitor is sent to sign in and comes back to the event.
  await page.goto(`/events/${id}`);
  await page.getByRole('link', { name: 'Sign in to book' }).click();
  await page.getByLabel('Email').fill('dana@eventhub.test');
  await page.getByLabel('Password').fill('demo-user-2026');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(new RegExp(`/events/${id}$`));
  await hydrated(page);
  await page.getByLabel('Seats — Seat').selectOption('2');
  await page.getByRole('button', { name: 'Book' }).click();
  await expect(page.getByTestId('booking-outcome')).toContainText('2 seat(s) confirmed');
  await page.getByRole('link', { name: 'See my tickets' }).click();
  const booking = page.locator('li.booking').filter({ hasText: title });
  await expect(booking.getByTestId('booking-status')).toHaveText('Confirmed');
  await expect(booking.locator('.qr svg')).toHaveCount(2);

  // Two seats for the next user, one left: the whole group waits, first in line.
  const other = await browser.newPage();
  await signIn(other, 'ola@eventhub.test', 'demo-user-2026');
  await other.goto(`/events/${id}`);
  await hydrated(other);
  await other.getByLabel('Seats — Seat').selectOption('2');
  await other.getByRole('button', { name: 'Book' }).click();
  await expect(other.getByTestId('booking-outcome')).toContainText('waitlist at position 1');

  // The first user cancels; the waiting group is confirmed in the same transaction, and the
  // second user's open page says so without being reloaded (server-sent events).
  await other.evaluate(() => { (window as unknown as { notReloaded: boolean }).notReloaded = true; });
  await booking.getByRole('button', { name: 'Cancel booking' }).click();
  await expect(page.locator('li.booking').filter({ hasText: title }).getByTestId('booking-status')).toHaveText('Cancelled');
  await expect(other.getByTestId('booking-outcome')).toContainText('2 seat(s) confirmed');
  await expect(other.getByTestId('seats-left')).toHaveText('1 left');
  expect(await other.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await other.goto('/me');
  const waiting = other.locator('li.booking').filter({ hasText: title });
  await expect(waiting.getByTestId('booking-status')).toHaveText('Confirmed');
  await expect(waiting.locator('.qr svg')).toHaveCount(2);
  await expect(other.locator('[data-notice="waitlist_confirmed"]')).toContainText(title);
  const code = (await waiting.locator('.ticket-code').first().textContent())!.trim();
  await other.close();

  // At the door: the organizer checks the ticket in, then the same ticket again is refused.
  const door = await browser.newPage();
  await signIn(door, 'noa@eventhub.test', 'demo-agent-2026');
  await door.goto('/agent');
  await door.getByRole('row').filter({ hasText: title }).getByRole('link', { name: 'Check-in' }).click();
  await expect(door.getByRole('heading', { name: 'Check-in' })).toBeVisible();
  await hydrated(door);
  await door.getByLabel('Ticket code').fill(code);
  await door.getByRole('button', { name: 'Check in' }).click();
  await expect(door.getByTestId('scan-result')).toHaveAttribute('data-result', 'admitted');
  await expect(door.getByTestId('scan-result')).toContainText('Welcome, Ola');
  await expect(door.getByTestId('door-count')).toContainText('1 of 2 tickets checked in');
  await door.getByLabel('Ticket code').fill(code.toLowerCase());
  await door.getByRole('button', { name: 'Check in' }).click();
  await expect(door.getByTestId('scan-result')).toHaveAttribute('data-result', 'repeat');
  await expect(door.getByTestId('scan-result')).toContainText('already checked in at');
  await expect(door.getByTestId('scan-result')).toContainText('by Noa');

  // The attendee list shows the same numbers and who holds the seats.
  await door.getByRole('link', { name: 'Attendees' }).click();
  await expect(door.getByRole('row').filter({ hasText: 'ola@eventhub.test' })).toContainText('1/2');
  await door.close();
});
