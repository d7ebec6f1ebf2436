// Debian's Chromium for the browser tests, driven by playwright-core and launched offline: nothing in
// it may reach past this machine, and playwright gives it a fresh profile. No browser is downloaded.
import { type Browser, chromium } from 'playwright-core';
import { requireBinary } from './requirement.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumNeed = requireBinary(CHROMIUM, 'chromium');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--gaia-url=http://127.0.0.1:9',
    ],
    headless: true,
  });
}
