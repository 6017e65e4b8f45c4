// A fake Ollama server for the end-to-end tests (loopback only). It speaks the real formats:
// GET /api/tags lists one model; POST /api/chat streams JSON lines carrying the JSON answer the
// app asks for ({reply, picks}): it picks the first two events of the prompt's <events> block,
// with a reason each, and names them in its reply, a few characters at a time.
import http from 'node:http';

const port = Number(process.env.FAKE_OLLAMA_PORT ?? 3117);
const model = 'demo-model';

function eventsIn(messages) {
  const last = messages[messages.length - 1]?.content ?? '';
  const match = last.match(/<events>\n([\s\S]*?)\n<\/events>/);
  if (!match) return [];
  try {
    return JSON.parse(match[1]);
  } catch {
    return [];
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const server = http.createServer(async (req, res) => {
  if (req.method === 'GET' && req.url === '/api/tags') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ models: [{ name: `${model}:latest`, model: `${model}:latest`, size: 1 }] }));
    return;
  }
  if (req.method === 'POST' && req.url === '/api/chat') {
    let body = '';
    for await (const chunk of req) body += chunk;
    const request = JSON.parse(body);
    const events = eventsIn(request.messages ?? []);
    const titles = events.map((e) => e.title);
    const reply = titles.length === 0
      ? 'Nothing in the catalogue fits that, sorry. Try other dates.'
      : `Here is what I would pick: ${titles[0]} — a strong line-up this week.`
        + (titles[1] ? ` If that one is full, ${titles[1]} is a good second choice.` : ' Book early, seats are going fast.');
    const reasons = ['The soonest one that fits.', 'A good second choice.'];
    const picks = events.slice(0, 2).map((e, i) => ({ id: e.id, reason: reasons[i] }));
    const text = JSON.stringify({ reply, picks });
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const pieces = text.match(/[\s\S]{1,8}/g) ?? [];
    for (const piece of pieces) {
      res.write(JSON.stringify({ model: request.model, created_at: new Date().toISOString(),
        message: { role: 'assistant', content: piece }, done: false }) + '\n');
      await sleep(80);
    }
    res.end(JSON.stringify({ model: request.model, created_at: new Date().toISOString(),
      message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop' }) + '\n');
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not found' }));
});

server.listen(port, '127.0.0.1');
