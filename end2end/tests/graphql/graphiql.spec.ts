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
