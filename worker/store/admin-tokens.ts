// Admin tokens made through the admin API (blindspot token add), kept in the credentials object beside the
// agents' keys: only each token's SHA-256, its scopes and who made it. Store only.

export const ADMIN_TOKENS_DDL = `CREATE TABLE IF NOT EXISTS admin_tokens (
  name TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);`;

export interface ManagedToken {
  name: string;
  scopes: string[];
  createdAt: number;
  createdBy: string;
}

type TokenRow = { name: string; sha256: string; scopes: string; created_at: number; created_by: string };

const toToken = (r: TokenRow): ManagedToken => ({
  name: r.name,
  scopes: JSON.parse(r.scopes) as string[],
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export function insertToken(sql: SqlStorage, token: ManagedToken, sha256: string): void {
  sql.exec(
    'INSERT INTO admin_tokens (name, sha256, scopes, created_at, created_by) VALUES (?, ?, ?, ?, ?)',
    token.name,
    sha256,
    JSON.stringify(token.scopes),
    token.createdAt,
    token.createdBy,
  );
}

export function listTokens(sql: SqlStorage): ManagedToken[] {
  return sql.exec<TokenRow>('SELECT name, sha256, scopes, created_at, created_by FROM admin_tokens ORDER BY name').toArray().map(toToken);
}

export function tokenByHash(sql: SqlStorage, sha256: string): ManagedToken | null {
  const row = sql
    .exec<TokenRow>('SELECT name, sha256, scopes, created_at, created_by FROM admin_tokens WHERE sha256 = ?', sha256)
    .toArray()[0];
  return row === undefined ? null : toToken(row);
}

export function countTokens(sql: SqlStorage): number {
  return sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM admin_tokens').one().n;
}

export function deleteToken(sql: SqlStorage, name: string): number {
  return sql.exec('DELETE FROM admin_tokens WHERE name = ?', name).rowsWritten;
}
