// A setting with a bad value is logged once per isolate, not on every request or sweep that reads it.

const said = new Set<string>();

/** Logs `message` as an error the first time this isolate is asked to. */
export function sayOnce(message: string): void {
  if (said.has(message)) return;
  said.add(message);
  console.error(message);
}
