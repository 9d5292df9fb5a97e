/**
 * HTTPS with `--http-tls-cert` and `--http-tls-key`: a self-signed certificate
 * made by openssl for the test, a client that trusts exactly that certificate,
 * and credentials on top.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub.js';
import { startTestHub } from '../support/hub.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lwm2m-hub-tls-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');

let openssl = true;
try {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-days',
      '1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
} catch {
  openssl = false;
}
const skip = !openssl && !process.env.CI;
if (skip) console.warn('HTTPS tests skipped: openssl not found (apt-get install openssl)');

function httpsGet(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: urlPath, headers, ca: readFileSync(certFile), servername: 'localhost' },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skip)('HTTPS', () => {
  let hub: Hub;
  beforeAll(async () => {
    hub = await startTestHub({ httpTlsCert: certFile, httpTlsKey: keyFile, httpAuth: { user: 'admin', password: 'pw' } });
  });
  afterAll(() => hub?.stop());

  it('serves the API over TLS with the configured certificate', async () => {
    expect(await httpsGet(hub.http.port, '/healthz')).toMatchObject({ status: 200, body: expect.stringContaining('"status":"ok"') });
    expect((await httpsGet(hub.http.port, '/api/clients')).status).toBe(401);
    const authorization = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
    expect(await httpsGet(hub.http.port, '/api/clients', { authorization })).toEqual({ status: 200, body: '[]' });
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    await expect(fetch(`http://127.0.0.1:${hub.http.port}/healthz`)).rejects.toThrow();
  });
});

describe.skipIf(skip)('HTTPS options', () => {
  it('refuses to start with a certificate and no key, naming both options', async () => {
    await expect(startTestHub({ httpTlsCert: certFile })).rejects.toThrow(
      '--http-tls-cert is set but --http-tls-key is missing: HTTPS needs both',
    );
  });

  it('refuses to start with a file that is not PEM, naming the files', async () => {
    const notPem = path.join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    await expect(startTestHub({ httpTlsCert: notPem, httpTlsKey: keyFile })).rejects.toThrow(
      /^invalid --http-tls-cert\/--http-tls-key \(.*not\.pem, .*key\.pem\)/,
    );
  });

  it('refuses to start with a missing file, naming it', async () => {
    await expect(startTestHub({ httpTlsCert: certFile, httpTlsKey: path.join(dir, 'absent.pem') })).rejects.toThrow(
      /^cannot read --http-tls-key .*absent\.pem: ENOENT/,
    );
  });
});
