/**
 * A registration made over DTLS keeps `secure` in every registration store (memory, file
 * across a reopen, Redis), so that requests to it go through its DTLS session; its peer is
 * another peer than the same address and port over plain UDP (peerKey, the peer index).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPeer, peerKey } from '../../../src/coap/peer.js';
import { registrationPeer } from '../../../src/lwm2m/registration/registration.js';
import { FileRegistrationStore } from '../../../src/store/file-store.js';
import { MemoryRegistrationStore } from '../../../src/store/memory-store.js';
import { openRedisStores } from '../../../src/store/redis-store.js';
import type { RegistrationStore } from '../../../src/store/registration-store.js';
import { REDIS_SERVER, RedisServer } from '../../support/redis-server.js';
import { makeRegistration, tempDir } from '../../store/support/registrations.js';

describe('a secure peer', () => {
  it('has its own key and shows as coaps://', () => {
    const plain = { address: '::1', port: 40000 };
    const secure = { ...plain, secure: true as const };
    expect(peerKey(secure)).not.toBe(peerKey(plain));
    expect(formatPeer(secure)).toBe('coaps://[::1]:40000');
    expect(formatPeer({ address: '192.0.2.1', port: 5684, secure: true })).toBe('coaps://192.0.2.1:5684');
    expect(formatPeer(plain)).toBe('[::1]:40000');
  });
});

/** Two registrations from one address and port, one over DTLS and one over plain UDP; a reopen for the file store. */
async function checkStore(open: () => Promise<RegistrationStore>, reopen?: () => Promise<RegistrationStore>): Promise<void> {
  let store = await open();
  const secure = makeRegistration(1, { address: '2001:db8::1', port: 40000, secure: true });
  const plain = makeRegistration(2, { address: '2001:db8::1', port: 40000 });
  await store.add(secure);
  await store.add(plain);
  expect(registrationPeer(secure)).toEqual({ address: '2001:db8::1', port: 40000, secure: true });
  expect(registrationPeer(plain)).toEqual({ address: '2001:db8::1', port: 40000 });
  expect((await store.getByPeer({ address: '2001:db8::1', port: 40000, secure: true }))?.id).toBe(secure.id);
  expect((await store.getByPeer({ address: '2001:db8::1', port: 40000 }))?.id).toBe(plain.id);
  // An update over DTLS from a new port (a NAT rebinding) moves the secure peer only.
  await store.update(secure.id, { port: 40001, secure: true, lastUpdate: secure.lastUpdate + 1 });
  if (reopen) store = await reopen();
  expect(await store.getById(secure.id)).toMatchObject({ port: 40001, secure: true });
  expect((await store.getByPeer({ address: '2001:db8::1', port: 40001, secure: true }))?.id).toBe(secure.id);
  expect(await store.getByPeer({ address: '2001:db8::1', port: 40000, secure: true })).toBeUndefined();
  expect((await store.getByPeer({ address: '2001:db8::1', port: 40000 }))?.id).toBe(plain.id);
  expect((await store.getById(plain.id))?.secure).toBeUndefined();
  await store.close();
}

describe('registration stores keep secure', () => {
  it('MemoryRegistrationStore', async () => {
    await checkStore(async () => new MemoryRegistrationStore());
  });

  it('FileRegistrationStore, across a reopen', async () => {
    const { dir, cleanup } = await tempDir();
    let first: FileRegistrationStore | undefined;
    try {
      await checkStore(
        async () => (first = await FileRegistrationStore.open(dir)),
        async () => {
          await first?.close();
          return FileRegistrationStore.open(dir);
        },
      );
    } finally {
      await cleanup();
    }
  });

  // In CI .ci/run installs redis-server: a missing binary there must fail, not skip.
  describe.skipIf(REDIS_SERVER === undefined && !process.env['CI'])('RedisRegistrationStore', () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await RedisServer.start();
    });
    afterAll(() => server?.stop());

    it('indexes the secure peer apart (the Lua scripts compute peerKey too)', async () => {
      const { store, observationStore } = await openRedisStores(server.url, { keyPrefix: `dtls-${process.pid}:` });
      try {
        await checkStore(async () => store);
      } finally {
        await observationStore.close();
      }
    });
  });
});
