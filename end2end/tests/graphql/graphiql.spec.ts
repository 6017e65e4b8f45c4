import { test, expect } from '../fixtures';

// GraphiQL is served from the site's own files: under the page policy nothing is refused (a
// refusal is a console error, which fails the test) and its default query runs allEvents.
test('GraphiQL loads under the CSP and runs allEvents', async ({ page }) => {
  const answers: any[] = [];
  page.on('response', async (r) => {
    if (r.url().endsWith('/graphql') && r.request().method() === 'POST') answers.push(await r.json());
  });
  const served = await page.goto('/graphql');
  expect(served?.headers()['content-security-policy'] ?? '').toContain("script-src 'self'");
  await page.locator('.graphiql-execute-button').click();
  await expect(page.locator('.graphiql-response')).toContainText('"totalCount"');
  await expect(page.locator('.graphiql-response')).toContainText('"edges"');
  const ran = answers.find((a) => a.data?.allEvents);
  expect(ran, 'an allEvents answer').toBeTruthy();
  expect(ran.data.allEvents.totalCount).toBeGreaterThan(0);
  expect(ran.data.allEvents.edges[0].node.title).toBeTruthy();
});

// A subscription from a browser page under the same policy: the socket is allowed (a refusal
// is a console error), and a booking made elsewhere reaches it.
test('a seats subscription over graphql-ws hears a booking', async ({ page, request }) => {
  const token = async (email: string, password: string) => {
    const reply = await request.post('/api/v1/auth/token', { data: { email, password } });
    expect(reply.ok()).toBeTruthy();
    return `Bearer ${(await reply.json()).access_token}`;
  };
  const agent = await token('noa@eventhub.test', 'demo-agent-2026');
  const starts = new Date(Date.now() + 30 * 24 * 3600 * 1000);
  const created = await request.post('/api/v1/events', {
    headers: { authorization: agent },
    data: {
      title: `Live seats ${Date.now()}`, summary: 'Seats, live', description: 'A room for the live test.',
      category: 'music', tags: [], starts_at: starts.toISOString(),
      ends_at: new Date(starts.getTime() + 7_200_000).toISOString(), timezone: 'Europe/Warsaw',
      venue: 'Sala', address: '1 Live St', city: 'Kraków', capacity: 8,
      ticket_types: [{ name: 'Seat', price: { amount: 0, currency: 'PLN' }, quantity: 8, max_per_registration: 4 }],
    },
  });
  expect(created.status()).toBe(201);
  const event = (await created.json()).event;
  expect((await request.post(`/api/v1/events/${event.id}/publish`, { headers: { authorization: agent } })).ok()).toBeTruthy();

  await page.goto('/graphql');
  // Opens the socket in the page and collects the seat numbers it is sent.
  await page.evaluate((uuid) => new Promise<void>((resolve, reject) => {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    const socket = new WebSocket(url, 'graphql-transport-ws');
    (window as any).seats = [];
    socket.onerror = () => reject(new Error('the socket failed'));
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init' }));
    socket.onmessage = (m) => {
      const message = JSON.parse(m.data);
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({
          id: 'seats', type: 'subscribe',
          payload: { query: 'subscription($uuid: UUID!) { seats(eventUuid: $uuid) { remaining confirmed } }', variables: { uuid } },
        }));
      } else if (message.type === 'next') {
        (window as any).seats.push(message.payload.data.seats);
        resolve();
      }
    };
  }), event.uuid);
  const seats = () => page.evaluate(() => (window as any).seats);
  expect(await seats()).toEqual([{ remaining: 8, confirmed: 0 }]);

  const user = await token('dana@eventhub.test', 'demo-user-2026');
  const booked = await request.post(`/api/v1/events/${event.id}/registrations`, {
    headers: { authorization: user }, data: { ticket_type_id: event.ticket_types[0].id, quantity: 3 },
  });
  expect(booked.status()).toBe(201);
  await expect.poll(seats).toEqual([{ remaining: 8, confirmed: 0 }, { remaining: 5, confirmed: 3 }]);
});
