import { test, expect, hydrated, signIn } from '../fixtures';
import type { APIRequestContext } from '@playwright/test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Received = { headers: http.IncomingHttpHeaders; body: string };

/** A webhook receiver on 127.0.0.1 (a free port) that answers 200 and records every request. */
async function receiver() {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/eventhub`, got, close: () => server.close() };
}

async function token(request: APIRequestContext, email: string, password: string) {
  const reply = await request.post('/api/v1/auth/token', { data: { email, password } });
  expect(reply.ok()).toBeTruthy();
  return `Bearer ${(await reply.json()).access_token}`;
}

/** A published event of the demo agent's, made through the REST API: its id and ticket type. */
async function event(request: APIRequestContext, title: string) {
  const auth = await token(request, 'noa@eventhub.test', 'demo-agent-2026');
  const starts = new Date(Date.now() + 21 * 24 * 3600 * 1000);
  const ends = new Date(starts.getTime() + 2 * 3600 * 1000);
  const created = await request.post('/api/v1/events', {
    headers: { authorization: auth },
    data: {
      title, summary: 'Webhook night', description: 'Deliveries, live.', category: 'music', tags: [],
      starts_at: starts.toISOString(), ends_at: ends.toISOString(), timezone: 'Asia/Jerusalem',
      venue: 'Hook Hall', address: '2 Wire St', city: 'Haifa', capacity: 20,
      ticket_types: [{ name: 'Seat', price: { amount: 0, currency: 'ILS' }, quantity: 20, max_per_registration: 2 }],
    },
  });
  expect(created.status()).toBe(201);
  const body = (await created.json()).event;
  expect((await request.post(`/api/v1/events/${body.id}/publish`, { headers: { authorization: auth } })).ok()).toBeTruthy();
  return { id: body.id as string, ticketType: body.ticket_types[0].id as string };
}

test('an organizer adds a webhook to a local receiver and sees the delivery of a booking in its log', async ({ page, request }) => {
  const hook = await receiver();
  try {
    const title = `Hook Hall ${Date.now()}`;
    const { id, ticketType } = await event(request, title);

    // The organizer adds an endpoint for this event: the secret is shown once.
    await signIn(page, 'noa@eventhub.test', 'demo-agent-2026');
    await page.getByRole('banner').getByRole('link', { name: 'Webhooks' }).click();
    await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
    await hydrated(page);
    await page.getByLabel('Endpoint URL').fill(hook.url);
    await page.getByLabel('Registration confirmed').check();
    await page.getByLabel('Events', { exact: true }).selectOption({ label: title });
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await expect(page.getByTestId('webhook-secret')).toHaveText(/^whsec_[A-Za-z0-9+/=]{32,}$/);
    const item = page.locator('li.webhook').filter({ hasText: hook.url });
    await expect(item).toContainText(title);
    await expect(item.locator('[data-state="active"]')).toBeVisible();

    // A user books a seat; a worker delivers the signed event to the receiver.
    const user = await token(request, 'dana@eventhub.test', 'demo-user-2026');
    const booked = await request.post(`/api/v1/events/${id}/registrations`, {
      headers: { authorization: user }, data: { ticket_type_id: ticketType, quantity: 1 },
    });
    expect(booked.status()).toBe(201);

    // The organizer's delivery log shows it delivered with a 2xx answer (reloaded until then).
    await item.getByRole('link', { name: 'Delivery log' }).click();
    await expect(page.getByRole('heading', { name: 'Delivery log' })).toBeVisible();
    const delivered = page.locator('tr[data-status="delivered"]');
    for (let i = 0; i < 30 && (await delivered.count()) === 0; i++) {
      await page.waitForTimeout(1_000);
      await page.reload();
    }
    await expect(delivered).toHaveCount(1);
    await expect(delivered).toContainText('registration.confirmed');
    await expect(delivered.getByTestId('response-code')).toHaveText(/^2\d\d$/);

    expect(hook.got).toHaveLength(1);
    const request0 = hook.got[0];
    const body = JSON.parse(request0.body);
    expect(body.type).toBe('registration.confirmed');
    expect(request0.headers['webhook-id']).toBe(body.id);
    expect(String(request0.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(Number(request0.headers['webhook-timestamp'])).toBeGreaterThan(0);
  } finally {
    hook.close();
  }
});
