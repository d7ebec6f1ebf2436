// A real Pushgateway (Debian's prometheus-pushgateway) on loopback, without persistence.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Daemon, startDaemon } from './daemon.ts';
import { freePort } from './ports.ts';

export const PUSHGATEWAY_BIN = '/usr/bin/prometheus-pushgateway';

export async function startPushgateway(): Promise<Daemon & { host: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'blindspot-pgw-'));
  const port = await freePort();
  const daemon = await startDaemon(
    'Pushgateway',
    PUSHGATEWAY_BIN,
    [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', '--log.level=warn'],
    port,
    dir,
  );
  return { ...daemon, host: `127.0.0.1:${port}` };
}
