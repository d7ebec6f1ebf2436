import { describe, expect, it } from 'vitest';
import { OUTPUT_KEPT, tailKeeper } from '../../scripts/local-worker.js';

describe('the output a LocalWorker keeps', () => {
  it('keeps everything while it is short', () => {
    const kept = tailKeeper(100);
    kept.add('GET /healthz 200\n');
    kept.add(Buffer.from('POST /v1/heartbeat 202\n'));
    expect(kept.text()).toBe('GET /healthz 200\nPOST /v1/heartbeat 202\n');
  });

  it('keeps only the newest text once it passes the limit, however much comes', () => {
    const kept = tailKeeper(1000);
    for (let i = 0; i < 100_000; i++) kept.add(`line ${i}\n`);
    const text = kept.text();
    expect(text.length).toBe(1000);
    expect(text.endsWith('line 99999\n')).toBe(true);
    expect(text).not.toContain('line 0\n');
  });

  it('holds a realistic default for failure messages', () => {
    expect(OUTPUT_KEPT).toBeGreaterThanOrEqual(64 * 1024);
  });
});
