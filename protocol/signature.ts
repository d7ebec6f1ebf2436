// Standard Webhooks symmetric signatures (HMAC-SHA256 over "{id}.{timestamp}.{body}") with WebCrypto,
// which runs unchanged in workerd and Node >= 20. Verification uses crypto.subtle.verify, which
// compares in constant time.
const SECRET_PREFIX = 'whsec_';
const encoder = new TextEncoder();

export class InvalidSecretError extends Error {}

/** Decodes a `whsec_<base64>` secret into its key bytes (24 to 64 bytes, as the spec asks). */
export function decodeSecret(secret: string): Uint8Array<ArrayBuffer> {
  if (!secret.startsWith(SECRET_PREFIX)) throw new InvalidSecretError('a secret starts with "whsec_" followed by base64');
  const bytes = decodeBase64(secret.slice(SECRET_PREFIX.length));
  if (bytes === null) throw new InvalidSecretError('the part after "whsec_" is not valid base64');
  if (bytes.length < 24 || bytes.length > 64)
    throw new InvalidSecretError(`a secret holds 24 to 64 random bytes; this one holds ${bytes.length}`);
  return bytes;
}

/** Whether `secret` is a well-formed `whsec_` secret. */
export function isValidSecret(secret: string): boolean {
  try {
    decodeSecret(secret);
    return true;
  } catch (e: unknown) {
    if (e instanceof InvalidSecretError) return false;
    throw e;
  }
}

export function generateSecret(bytes = 32): string {
  return SECRET_PREFIX + encodeBase64(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function importKey(secret: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', decodeSecret(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

function signedContent(id: string, timestamp: number | string, body: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${id}.${timestamp}.${body}`);
}

/** Returns the `webhook-signature` header value: one `v1,<base64>` entry per secret, space-separated. */
export async function sign(secrets: readonly string[], id: string, timestamp: number, body: string): Promise<string> {
  const content = signedContent(id, timestamp, body);
  const signatures = await Promise.all(
    secrets.map(async (secret) => {
      const mac = await crypto.subtle.sign('HMAC', await importKey(secret, 'sign'), content);
      return `v1,${encodeBase64(new Uint8Array(mac))}`;
    }),
  );
  return signatures.join(' ');
}

/**
 * True when any `v1,` signature in the header matches any of the secrets (key rotation works both ways:
 * the sender may sign with old and new secret, the receiver may hold both).
 */
export async function verify(secrets: readonly string[], id: string, timestamp: string, body: string, header: string): Promise<boolean> {
  const candidates = parseSignatureHeader(header);
  if (candidates.length === 0) return false;
  const content = signedContent(id, timestamp, body);
  for (const secret of secrets) {
    const key = await importKey(secret, 'verify');
    for (const mac of candidates) {
      if (await crypto.subtle.verify('HMAC', key, mac, content)) return true;
    }
  }
  return false;
}

const MAX_SIGNATURES = 8;

function parseSignatureHeader(header: string): Uint8Array<ArrayBuffer>[] {
  const macs: Uint8Array<ArrayBuffer>[] = [];
  for (const entry of header.split(' ').slice(0, MAX_SIGNATURES)) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const mac = decodeBase64(entry.slice(comma + 1));
    if (mac !== null && mac.length === 32) macs.push(mac);
  }
  return macs;
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch (e: unknown) {
    if (e instanceof DOMException) return null;
    throw e;
  }
}
