// The front door (scripts/front-door.ts) in a process of its own, as npm start runs it beside nothing
// but the demo agent: a test's own readers then do not share its event loop. It prints its URL once it
// listens, and closes on SIGTERM.
//   node --import tsx test/support/front-door-process.ts <port> <upstream url>
import { startFrontDoor } from '../../scripts/front-door.ts';

const [port, upstream] = process.argv.slice(2);
if (port === undefined || upstream === undefined || !/^\d+$/.test(port)) {
  console.error('usage: front-door-process.ts <port> <upstream url>');
  process.exit(2);
}
const door = await startFrontDoor({ port: Number(port), upstream });
process.once('SIGTERM', () => void door.close().then(() => process.exit(0)));
console.log(door.url);
