// Readers who give up after 1 to 30 ms, again and again, as a load tool or a widget polling with a
// short timeout does: run as a process of its own (so its load does not slow the test's own clients),
// it prints how many reads it abandoned and how many were answered in time, as JSON.
//   node --import tsx test/support/impatient-readers.ts <base url> <ms> <readers> <path,path,...>
const [base, ms, readers, paths] = process.argv.slice(2);
if (base === undefined || ms === undefined || readers === undefined || paths === undefined) {
  console.error('usage: impatient-readers.ts <base url> <ms> <readers> <path,path,...>');
  process.exit(2);
}
const list = paths.split(',');
const end = Date.now() + Number(ms);
const counts = { abandoned: 0, answered: 0 };
async function reader(): Promise<void> {
  while (Date.now() < end) {
    const url = `${base}${list[Math.floor(Math.random() * list.length)]}`;
    await fetch(url, { signal: AbortSignal.timeout(1 + Math.floor(Math.random() * 30)) })
      .then(async (r) => (await r.arrayBuffer(), counts.answered++))
      .catch(() => counts.abandoned++);
  }
}
await Promise.all(Array.from({ length: Number(readers) }, reader));
export {};
console.log(JSON.stringify(counts));
