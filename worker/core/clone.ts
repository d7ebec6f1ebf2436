// A deep copy of plain data (objects, arrays, strings, numbers, booleans, null): what the engine's
// state is made of. The engine copies before it changes; structuredClone would do, but in workerd it
// goes through the serializer and costs several times more on every heartbeat.
export function clonePlain<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(clonePlain) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = clonePlain((value as Record<string, unknown>)[key]);
  return out as T;
}
