// One line per event on stderr, logfmt style, so journald and kubectl logs stay greppable.
export type Level = 'info' | 'warn' | 'error';
export type Logger = (level: Level, message: string, fields?: Record<string, string | number | boolean | null>) => void;

function quote(value: string): string {
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

export const stderrLogger: Logger = (level, message, fields = {}) => {
  const parts = [`time=${new Date().toISOString()}`, `level=${level}`, `msg=${quote(message)}`];
  for (const [key, value] of Object.entries(fields)) parts.push(`${key}=${quote(String(value))}`);
  process.stderr.write(`${parts.join(' ')}\n`);
};
