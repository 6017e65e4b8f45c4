// A fake Ollama server for the end-to-end tests (loopback only). It speaks the real formats:
// GET /api/tags lists one model; POST /api/chat streams JSON lines that recommend the first two
// events of the prompt's <events> block, a few words at a time.
import http from 'node:http';

const port = Number(process.env.FAKE_OLLAMA_PORT ?? 3117);
const model = 'demo-model';

function titlesIn(messages) {
  const last = messages[messages.length - 1]?.content ?? '';
  const match = last.match(/<events>\n([\s\S]*?)\n<\/events>/);
  if (!match) return [];
  try {
    return JSON.parse(match[1]).map((e) => e.title);
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
    const titles = titlesIn(request.messages ?? []);
    const text = titles.length === 0
      ? 'Nothing in the catalogue fits that, sorry. Try other dates.'
      : `Here is what I would pick: ${titles[0]} — a strong line-up this week.`
        + (titles[1] ? ` If that one is full, ${titles[1]} is a good second choice.` : '');
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const words = text.split(/(?<= )/);
    for (const word of words) {
      res.write(JSON.stringify({ model: request.model, created_at: new Date().toISOString(),
        message: { role: 'assistant', content: word }, done: false }) + '\n');
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
