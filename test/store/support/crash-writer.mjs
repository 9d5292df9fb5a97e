// Child process of file-store-crash.test.ts: registers (and now and then
// deregisters) devices in a FileRegistrationStore as fast as it can, with
// many changes in flight, and prints one line per change whose promise
// resolved ("add <id>", "remove <id>"; "removing <id>" before a removal
// starts), until the parent kills it.
// Plain .mjs on the built store (no tsx here): npm test builds dist/ first.
//
// usage: node crash-writer.mjs <dist/store/file-store.js> <dataDir> <round>
import { pathToFileURL } from 'node:url';

const [storeModule, dataDir, round = '0'] = process.argv.slice(2);
const { FileRegistrationStore } = await import(pathToFileURL(storeModule).href);

const store = await FileRegistrationStore.open(dataDir, {
  compaction: { ratio: 2, minRecords: 500 },
  onCorrupt: (problem) => process.stdout.write(`corrupt ${JSON.stringify(problem)}\n`),
});
process.stdout.write(`ready ${await store.count()}\n`);

const IN_FLIGHT = 32;
let n = 0;

function registration(i) {
  const now = Date.now();
  return {
    id: `r${round}-${i}`,
    endpoint: `urn:dev:crash-${round}-${i}`,
    lifetime: 3600,
    lwm2mVersion: '1.1',
    binding: 'U',
    queueMode: true,
    address: `10.1.${(i >> 8) & 255}.${i & 255}`,
    port: 5683,
    rootPath: '/',
    objectLinks: [{ path: [3, 0], attributes: { ver: '1.1' } }, { path: [3303, 0], attributes: {} }],
    supportedContentFormats: [110, 112],
    additionalAttributes: {},
    registeredAt: now,
    lastUpdate: now,
  };
}

async function worker() {
  for (;;) {
    const i = n++;
    const r = registration(i);
    await store.add(r);
    // stdout to a pipe is synchronous on Linux: once written, the parent will see the line.
    process.stdout.write(`add ${r.id}\n`);
    if (i % 5 === 4) {
      const victim = `r${round}-${i - 2}`;
      // Announced first: a removal killed before it is acknowledged may or may not have reached the disk.
      process.stdout.write(`removing ${victim}\n`);
      if (await store.remove(victim)) process.stdout.write(`remove ${victim}\n`);
    }
  }
}

await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
