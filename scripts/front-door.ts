// npm start's front door on 127.0.0.1:8787: a small HTTP proxy in front of `wrangler dev`, so that the
// local stack stays up under a flood of readers as the Cloudflare edge keeps a deployed Worker up.
//
// Why: wrangler dev's own entry (a proxy Worker in workerd) does not close the connections of clients
// that give up mid-request. Readers with short timeouts (a load tool, a status widget polling
// impatiently) filled workerd's 20 000 file descriptors within seconds; then nothing answered, not
// even /healthz, the runtime crashed and restarted, and the agents' heartbeats were refused meanwhile.
//
// So the front door:
// - never gives up on a request it passed on: a client that leaves has its answer read and thrown
//   away, so workerd sees no abandoned connection;
// - keeps a bounded pool of kept-alive connections to wrangler, in two lanes: the agents' and
//   operators' writes (POST, PUT, PATCH, DELETE) have their own, so readers cannot starve heartbeats;
// - holds at most MAX_WAITING requests per lane beyond those in flight, and answers any more at once
//   with 503 and Retry-After, in JSON like the Worker's own errors (nothing says "operational"); a
//   request whose client leaves while it waits is dropped before it is sent, so abandoned reads do
//   not crowd out those still waited for;
// - passes everything else through as it is: method, path, headers (Host too: the Worker names its
//   own URL from it), body, status, headers and body of the answer.
import http from 'node:http';

/** Connections to wrangler per lane. */
const READ_SOCKETS = 32;
const WRITE_SOCKETS = 32;
/** Requests a lane holds waiting for a connection, beyond those in flight. */
export const MAX_WAITING = 2000;
/** The largest request body passed on (the Worker refuses far smaller ones itself: backfill takes 512 KiB). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** How long the front door waits for wrangler's answer (a Worker held up, a D1 that hangs: the Worker bounds its own waits). */
const UPSTREAM_TIMEOUT_MS = 120_000;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

export interface FrontDoor {
  url: string;
  close(): Promise<void>;
}

/** A lane: at most `sockets` requests in flight to wrangler, the rest waiting in order. */
class Lane {
  readonly agent: http.Agent;
  private running = 0;
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly sockets: number,
    private readonly maxWaiting: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  /** Resolves true once the request may go (then call release), false if its client left meanwhile; 'full' if too many wait. */
  take(res: http.ServerResponse): Promise<boolean> | 'full' {
    if (this.running < this.sockets) {
      this.running++;
      return Promise.resolve(true);
    }
    if (this.waiting.size >= this.maxWaiting) return 'full';
    return new Promise((resolve) => {
      const go = () => {
        res.off('close', left);
        this.running++;
        resolve(true);
      };
      const left = () => {
        this.waiting.delete(go);
        resolve(false);
      };
      this.waiting.add(go);
      res.once('close', left);
    });
  }

  release(): void {
    this.running--;
    const next = this.waiting.values().next();
    if (next.done) return;
    this.waiting.delete(next.value);
    next.value();
  }
}

function refuse(res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify({ error: { code, message } }));
}

/** Reads the request body whole (bounded), so the request passed on is never cut short by a client that leaves. */
function readBody(req: http.IncomingMessage): Promise<Buffer | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}

export interface FrontDoorOptions {
  port: number;
  upstream: string;
  /** Connections to wrangler per lane (default 32), and requests each lane holds waiting (default MAX_WAITING). */
  sockets?: number;
  maxWaiting?: number;
}

export async function startFrontDoor(options: FrontDoorOptions): Promise<FrontDoor> {
  const upstream = new URL(options.upstream);
  const waiting = options.maxWaiting ?? MAX_WAITING;
  const lanes = { read: new Lane(options.sockets ?? READ_SOCKETS, waiting), write: new Lane(options.sockets ?? WRITE_SOCKETS, waiting) };

  const server = http.createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const lane = ['GET', 'HEAD', 'OPTIONS'].includes(method) ? lanes.read : lanes.write;
    const body = await readBody(req);
    if (body === 'aborted') return;
    if (body === 'too_large') {
      // Answered at once; the rest of the body is not read, so the connection ends with the answer.
      res.on('finish', () => req.socket.destroy());
      return refuse(res, 413, 'body_too_large', `request bodies are limited to ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
    }
    let gone = false;
    res.on('close', () => {
      if (!res.writableFinished) gone = true;
    });
    const turn = lane.take(res);
    if (turn === 'full') return refuse(res, 503, 'overloaded', 'too many requests at once; retry in a second', { 'retry-after': '1' });
    if (!(await turn)) return;
    let released = false;
    const release = () => {
      if (!released) (released = true), lane.release();
    };
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    headers['content-length'] = String(body.length);
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path: req.url,
        headers,
        agent: lane.agent,
        timeout: UPSTREAM_TIMEOUT_MS,
      },
      (answer) => {
        answer.on('end', release);
        answer.on('error', () => {
          release();
          // wrangler's answer broke off: so does the client's, rather than hang half-sent.
          res.destroy();
        });
        if (gone) {
          // The client left: read the answer and throw it away, so wrangler's connection is kept, not cut.
          answer.resume();
          return;
        }
        const back: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) back[name] = value;
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, back);
        answer.pipe(res);
        res.on('close', () => {
          if (!answer.complete) {
            answer.unpipe(res);
            answer.resume();
          }
        });
      },
    );
    out.on('timeout', () => out.destroy(new Error(`no answer within ${UPSTREAM_TIMEOUT_MS / 1000} s`)));
    out.on('error', (e) => {
      release();
      // wrangler restarting its runtime, or not running: the Worker cannot answer.
      refuse(res, 503, 'worker_unavailable', `the local Worker (wrangler dev) did not answer: ${e.message}; retry in a few seconds`, {
        'retry-after': '2',
      });
    });
    out.end(body);
  });
  server.keepAliveTimeout = 5_000;
  // A client that sends its request slowly is not waited on for ever.
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.maxConnections = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${options.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        lanes.read.agent.destroy();
        lanes.write.agent.destroy();
      }),
  };
}
