import { describe, expect, it } from 'vitest';
import { createDefaultLayout } from '../../src/mqtt/default-layout.js';
import type { Lwm2mNode } from '../../src/model/node.js';
import { EMPTY_MODEL } from '../../src/model/object-model.js';
import { makeRegistration } from '../store/support/registrations.js';

const layout = createDefaultLayout({ prefix: 'lwm2m', names: false });
const registration = makeRegistration(1, { endpoint: 'node-1' });
const time = Date.UTC(2026, 10, 26, 9, 0, 0, 125);

/** The payloads are written out by hand (not stringified objects), so their bytes are pinned here. */
describe('default layout: value payloads', () => {
  it('writes each value type as JSON, with type, time and source in that order', () => {
    const node: Lwm2mNode = {
      kind: 'instance',
      id: 0,
      resources: [
        { kind: 'resource', id: 1, value: { type: 'float', value: 21.5 } },
        { kind: 'resource', id: 2, value: { type: 'string', value: 'say "hi"\n\\' } },
        { kind: 'resource', id: 3, value: { type: 'integer', value: 9007199254740993n } },
        { kind: 'resource', id: 4, value: { type: 'boolean', value: false } },
        { kind: 'resource', id: 5, value: { type: 'opaque', value: new Uint8Array([1, 2, 255]) } },
        { kind: 'resource', id: 6, value: { type: 'time', value: 1_700_000_000 } },
        { kind: 'resource', id: 7, value: { type: 'objlnk', value: { objectId: 3, instanceId: 0 } } },
        { kind: 'resource', id: 8, value: { type: 'float', value: Number.NaN } },
      ],
    };
    const messages = layout.values(registration, 'notify', [3303, 0], node, time, EMPTY_MODEL);
    expect(messages.map((m) => [m.topic, m.payload, m.retain])).toEqual([
      ['lwm2m/node-1/3303/0/1', '{"value":21.5,"type":"float","time":"2026-11-26T09:00:00.125Z","source":"notify"}', true],
      [
        'lwm2m/node-1/3303/0/2',
        '{"value":"say \\"hi\\"\\n\\\\","type":"string","time":"2026-11-26T09:00:00.125Z","source":"notify"}',
        true,
      ],
      ['lwm2m/node-1/3303/0/3', '{"value":"9007199254740993","type":"integer","time":"2026-11-26T09:00:00.125Z","source":"notify"}', true],
      ['lwm2m/node-1/3303/0/4', '{"value":false,"type":"boolean","time":"2026-11-26T09:00:00.125Z","source":"notify"}', true],
      ['lwm2m/node-1/3303/0/5', '{"value":"AQL/","type":"opaque","time":"2026-11-26T09:00:00.125Z","source":"notify"}', true],
      [
        'lwm2m/node-1/3303/0/6',
        '{"value":"2023-11-14T22:13:20.000Z","type":"time","time":"2026-11-26T09:00:00.125Z","source":"notify"}',
        true,
      ],
      ['lwm2m/node-1/3303/0/7', '{"value":"3:0","type":"objlnk","time":"2026-11-26T09:00:00.125Z","source":"notify"}', true],
      ['lwm2m/node-1/3303/0/8', '{"value":null,"type":"float","time":"2026-11-26T09:00:00.125Z","source":"notify"}', true],
    ]);
    // Each payload is the JSON of the object it stands for.
    for (const message of messages)
      expect(Object.keys(JSON.parse(message.payload as string) as object)).toEqual(['value', 'type', 'time', 'source']);
  });

  it('takes the time of a record that has one (Send), in seconds', () => {
    const [message] = layout.sent(
      registration,
      [{ path: [3303, 0, 5700], value: { type: 'float', value: 1 }, time: 1_700_000_000.5 }],
      time,
      EMPTY_MODEL,
    );
    expect(message?.payload).toBe('{"value":1,"type":"float","time":"2023-11-14T22:13:20.500Z","source":"send"}');
  });
});
