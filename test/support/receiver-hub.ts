// Real HTTP receivers on 127.0.0.1 for the workerd tests: one server, one receiver per first path
// segment (/pd/..., /slack/...). Each records what it gets and answers as cued over a small control
// API, so a test inside workerd can make a receiver go down, rate-limit, hang or vanish (410).
//   POST   /_cue/<name>       {"status": 429, "headers": {...}, "body": "...", "times": 1} or {"mode": "hang"} or {"mode": "reset"}
//                              or {"mode": "endless", "status": 500}: that status, then a body that never ends;
//                              with "match": "text" the cue applies only to requests whose path or body contains it
//                              (test files share receivers, so each cues only its own agent's requests)
//   DELETE /_cue/<name>?match=text  removes that cue
//   GET    /_requests/<name>  what <name> received, oldest first
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HubRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Wall-clock receipt time (ms). */
  at: number;
}

interface Cue {
  mode?: 'answer' | 'hang' | 'reset' | 'endless';
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Applies to this many requests, then the receiver answers 202 again; absent = until changed. */
  times?: number;
  match?: string;
}

export interface ReceiverHub {
  url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startReceiverHub(): Promise<ReceiverHub> {
  const requests = new Map<string, HubRequest[]>();
  const cues = new Map<string, Cue[]>();
  const hanging = new Set<ServerResponse>();
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [first, name] = url.pathname.split('/').filter(Boolean);
    const body = await readBody(req);
    if (first === '_cue' && name) {
      const match = req.method === 'DELETE' ? (url.searchParams.get('match') ?? undefined) : (JSON.parse(body) as Cue).match;
      const kept = (cues.get(name) ?? []).filter((c) => c.match !== match);
      if (req.method !== 'DELETE') kept.push(JSON.parse(body) as Cue);
      cues.set(name, kept);
      return json(res, 200, { ok: true });
    }
    if (first === '_requests' && name) return json(res, 200, requests.get(name) ?? []);
    if (!first) return json(res, 404, { error: 'no receiver named' });
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    const list = requests.get(first) ?? [];
    list.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, headers, body, at: Date.now() });
    requests.set(first, list);
    const list2 = cues.get(first) ?? [];
    const cue =
      list2.find((c) => c.match !== undefined && (url.pathname.includes(c.match) || body.includes(c.match))) ??
      list2.find((c) => c.match === undefined);
    if (cue?.times !== undefined) {
      cue.times -= 1;
      if (cue.times <= 0)
        cues.set(
          first,
          list2.filter((c) => c !== cue),
        );
    }
    if (cue?.mode === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (cue?.mode === 'reset') return req.socket.destroy();
    if (cue?.mode === 'endless') {
      // The status at once, then 1 KiB every 10 ms until the caller hangs up.
      res.writeHead(cue.status ?? 500, { 'content-type': 'text/plain', ...cue.headers });
      const chunk = 'x'.repeat(1024);
      const timer = setInterval(() => res.write(chunk), 10);
      hanging.add(res);
      res.on('close', () => (clearInterval(timer), hanging.delete(res)));
      return;
    }
    res
      .writeHead(cue?.status ?? 202, { 'content-type': 'application/json', ...cue?.headers })
      .end(cue?.body ?? '{"status":"success","message":"Event processed"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('receiver hub has no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
