// npm start's front door (scripts/front-door.ts) in front of a real HTTP server standing in for
// wrangler dev: what passes through unchanged, what it refuses, and that a client who leaves never
// cuts a request short upstream (the connections wrangler dev did not close filled workerd's files).
import http from 'node:http';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontDoor, MAX_BODY_BYTES, startFrontDoor } from '../../scripts/front-door.ts';
import { freePort } from '../support/ports.ts';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether the front door's connection went away before this request's answer was written. */
  cut: boolean;
}

const seen: Seen[] = [];
/** Answers held until released (by path): requests in flight for as long as a test wants. */
const held = new Map<string, () => void>();
let upstream: http.Server;
let door: FrontDoor;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const entry: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, cut: false };
      seen.push(entry);
      res.on('close', () => {
        if (!res.writableFinished) entry.cut = true;
      });
      const answer = () => {
        if (req.url === '/not-modified') return res.writeHead(304, { etag: '"v1"' }).end();
        res.writeHead(req.url === '/missing' ? 404 : 200, {
          'content-type': 'application/json',
          'cache-control': 'public, max-age=5',
          etag: '"v1"',
          'x-custom': 'kept',
        });
        res.end(JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, length: body.length }));
      };
      const url = req.url ?? '';
      if (url.startsWith('/hold'))
        held.set(url, () => {
          held.delete(url);
          answer();
        });
      else answer();
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as { port: number }).port;
  door = await startFrontDoor({ port: await freePort(), upstream: `http://127.0.0.1:${port}`, sockets: 2, maxWaiting: 3 });
});

afterAll(async () => {
  for (const release of held.values()) release();
  await door.close();
  await new Promise<void>((r) => upstream.close(() => r()));
});

const until = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`never: ${what}`);
};

describe("npm start's front door", () => {
  it('passes method, path, query, headers (Host too) and body through, and the answer back unchanged', async () => {
    // fetch may not set Host; a raw request may, as a browser behind a name does.
    const { status, headers, body } = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
      (resolve, reject) => {
        const req = http.request(
          `${door.url}/v1/agents/demo/heartbeats?x=1`,
          { method: 'POST', headers: { 'content-type': 'application/json', 'x-blindspot-signature': 'v1=abc', host: 'status.example' } },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
          },
        );
        req.on('error', reject);
        req.end('{"seq":1}');
      },
    );
    expect(status).toBe(200);
    expect(headers['x-custom']).toBe('kept');
    expect(headers['cache-control']).toBe('public, max-age=5');
    expect(JSON.parse(body)).toEqual({ method: 'POST', url: '/v1/agents/demo/heartbeats?x=1', host: 'status.example', length: 9 });
    const got = seen.at(-1);
    expect(got?.headers['x-blindspot-signature']).toBe('v1=abc');
    expect(got?.body).toBe('{"seq":1}');
  });

  it('passes statuses through as they are: 404, 304 without a body, HEAD', async () => {
    expect((await fetch(`${door.url}/missing`)).status).toBe(404);
    const notModified = await fetch(`${door.url}/not-modified`, { headers: { 'if-none-match': '"v1"' } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe('"v1"');
    const head = await fetch(`${door.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(seen.at(-1)?.method).toBe('HEAD');
  });

  it(`refuses a body over ${MAX_BODY_BYTES} bytes with a 413 in JSON, passing nothing on`, async () => {
    const before = seen.length;
    const res = await fetch(`${door.url}/v1/agents/demo/backfill`, { method: 'POST', body: 'x'.repeat(MAX_BODY_BYTES + 1) }).catch(
      (e: unknown) => e as Error,
    );
    // The door answers before the body ends; a client may see the answer or the connection closing.
    if (res instanceof Response) {
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('body_too_large');
    }
    expect(seen.length).toBe(before);
  });

  it('never cuts a request short upstream when its client leaves: the answer is read and thrown away', async () => {
    const gone = new AbortController();
    const leaving = fetch(`${door.url}/hold-1`, { signal: gone.signal }).catch(() => 'left');
    await until('the request to reach upstream', () => held.has('/hold-1'));
    const release = held.get('/hold-1');
    gone.abort();
    expect(await leaving).toBe('left');
    await new Promise((r) => setTimeout(r, 50));
    release?.();
    await until('the answer to be written', () => seen.find((s) => s.url === '/hold-1') !== undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.find((s) => s.url === '/hold-1')?.cut).toBe(false);
    // The connection is kept for the next request.
    expect((await fetch(`${door.url}/after`)).status).toBe(200);
  });

  it('holds requests beyond its connections, drops those whose client left before they went, and refuses beyond its bound with a 503 in JSON', async () => {
    // Two connections to upstream (sockets: 2), both held.
    const inFlight = [fetch(`${door.url}/hold-a`), fetch(`${door.url}/hold-b`)];
    await until('both to reach upstream', () => held.has('/hold-a') && held.has('/hold-b'));
    const [releaseA, releaseB] = [held.get('/hold-a'), held.get('/hold-b')];
    // One waits and leaves; three more wait (maxWaiting: 3); the next is refused at once.
    const gone = new AbortController();
    const leaving = fetch(`${door.url}/left-while-waiting`, { signal: gone.signal }).catch(() => 'left');
    await new Promise((r) => setTimeout(r, 50));
    gone.abort();
    expect(await leaving).toBe('left');
    const waiting = [fetch(`${door.url}/w1`), fetch(`${door.url}/w2`), fetch(`${door.url}/w3`)];
    await new Promise((r) => setTimeout(r, 50));
    const refused = await fetch(`${door.url}/one-too-many`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('overloaded');
    // Writes have their own lane: a heartbeat goes through while readers wait.
    expect((await fetch(`${door.url}/v1/agents/demo/heartbeats`, { method: 'POST', body: '{}' })).status).toBe(200);
    releaseA?.();
    releaseB?.();
    expect((await Promise.all([...inFlight, ...waiting])).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const urls = seen.map((s) => s.url);
    expect(urls).not.toContain('/left-while-waiting');
    expect(urls).not.toContain('/one-too-many');
  });

  it('answers a hostile request line or header block with a 4xx and stays up', async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const port = Number(new URL(door.url).port);
        const socket = createConnection({ host: '127.0.0.1', port }, () => socket.end(text));
        let out = '';
        socket.on('data', (d) => (out += d));
        socket.on('close', () => resolve(out));
        socket.on('error', () => resolve(out));
      });
    expect(await raw('NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    expect((await fetch(`${door.url}/still-up`)).status).toBe(200);
  });

  it('answers 503 in JSON while wrangler does not answer', async () => {
    const closed = await startFrontDoor({ port: await freePort(), upstream: `http://127.0.0.1:${await freePort()}` });
    try {
      const res = await fetch(`${closed.url}/`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('worker_unavailable');
    } finally {
      await closed.close();
    }
  });
});
