import { expect, signIn, test } from '../fixtures';

// CI runs without a language model: the built-in recommender answers ("AI offline").
test('a user asks for stand-up this week, sees event cards and registers from one', async ({ page }) => {
  await signIn(page, 'ola@eventhub.test', 'demo-user-2026');
  await page.goto('/assistant');
  await expect(page.getByRole('heading', { name: 'Ask what to see' })).toBeVisible();
  await page.getByLabel('Your question').fill('stand-up this week');
  await page.getByRole('button', { name: 'Ask' }).click();

  const reply = page.getByTestId('assistant-reply').last();
  await expect(reply).toContainText('The AI assistant is offline right now');
  await expect(reply.getByText('AI offline · built-in recommender')).toBeVisible();
  const cards = reply.getByTestId('recommendation');
  await expect(cards.first()).toBeVisible();
  // Every card is a stand-up event with a link to its page.
  const count = await cards.count();
  expect(count).toBeGreaterThan(0);
  for (let i = 0; i < count; i++) {
    await expect(cards.nth(i)).toContainText('Stand-up');
    await expect(cards.nth(i).getByRole('link').first()).toHaveAttribute('href', /^\/events\/\d+$/);
  }
  // The conversation is listed and kept.
  await expect(page.getByRole('complementary').getByRole('link', { name: 'stand-up this week' })).toBeVisible();

  const first = cards.first();
  const title = (await first.getByRole('heading').textContent())!.trim();
  await first.getByRole('button', { name: /Register|Join the waitlist/ }).click();
  await expect(page).toHaveURL(/\/events\/\d+\?registration=\d+/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
  await expect(page.getByTestId('booking-outcome')).toBeVisible();

  // The user can delete the conversation.
  await page.goto('/assistant');
  await page.getByRole('button', { name: 'Delete this conversation' }).click();
  await expect(page.getByText('No conversations yet.')).toBeVisible();
});

test('the home page panel asks in Hebrew and opens the conversation', async ({ page, context }) => {
  await signIn(page, 'sam@eventhub.test', 'demo-user-2026');
  await context.addCookies([{ name: 'eventhub_lang', value: 'he', url: page.url() }]);
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  const panel = page.locator('.assistant-panel');
  await panel.getByLabel('השאלה שלך').fill('משהו לילדים השבוע');
  await panel.getByRole('button', { name: 'לשאול' }).click();
  await expect(page).toHaveURL(/\/assistant\?c=\d+/);
  const reply = page.getByTestId('assistant-reply').last();
  await expect(reply).toContainText('העוזר החכם לא זמין כרגע');
  await expect(reply.getByTestId('recommendation').first()).toContainText('ילדים');
});

test.describe('with a language model', () => {
  // A second server whose assistant talks to the fake Ollama (end2end/fake-ollama.mjs).
  test.use({ baseURL: 'http://127.0.0.1:3109' });

  test('the answer streams in and its events become cards', async ({ page }) => {
    await signIn(page, 'dana@eventhub.test', 'demo-user-2026');
    await page.goto('/assistant');
    await page.getByLabel('Your question').fill('stand-up this week');
    await page.getByRole('button', { name: 'Ask' }).click();
    // While it is written, the answer shows piece by piece.
    await expect(page.getByTestId('assistant-streaming')).toContainText('Here is what I would pick');
    const reply = page.getByTestId('assistant-reply').last();
    await expect(reply).toContainText('answered by demo-model');
    await expect(reply).not.toContainText('AI offline');
    const cards = reply.getByTestId('recommendation');
    await expect(cards.first()).toBeVisible();
    // The model's reason for its first pick is shown under its card.
    await expect(cards.first().getByTestId('recommendation-reason')).toHaveText('The soonest one that fits.');
    const text = (await reply.locator('.chat-text').textContent())!;
    const count = await cards.count();
    for (let i = 0; i < count; i++) {
      const title = (await cards.nth(i).getByRole('heading').textContent())!.trim();
      expect(text).toContain(title);
    }
  });
});
