/** OpenAPI 3 description of the REST API, served at /api/openapi.json and checked against the routes in a test. */

const endpoint = { name: 'endpoint', in: 'path', required: true, description: 'LwM2M endpoint name', schema: { type: 'string' } };
const path = { name: 'path', in: 'path', required: true, description: 'LwM2M path without the leading slash: 3, 3/0, 3/0/9 or 3/0/7/1', schema: { type: 'string' } };
const objectId = { name: 'object', in: 'path', required: true, schema: { type: 'integer' } };
const format = {
  name: 'format',
  in: 'query',
  description: 'content format to ask for or write with (default: negotiated from the client version and history)',
  schema: { type: 'string', enum: ['text', 'opaque', 'cbor', 'senml-json', 'senml-cbor', 'tlv', 'tlv-legacy', 'json', 'json-legacy', 'lwm2m-cbor'] },
};
const timeout = { name: 'timeout', in: 'query', description: 'seconds to wait for the device (default: CoAP MAX_TRANSMIT_WAIT)', schema: { type: 'number' } };

const error = { $ref: '#/components/schemas/Error' };
const errors = {
  '400': { description: 'bad request, or the device answered 4.00', content: { 'application/json': { schema: error } } },
  '404': { description: 'client not registered, or the device answered 4.04', content: { 'application/json': { schema: error } } },
  '409': { description: 'the client sleeps and its request queue is full', content: { 'application/json': { schema: error } } },
  '502': { description: 'the device reset the request or answered something undecodable', content: { 'application/json': { schema: error } } },
  '504': { description: 'the device did not answer after the CoAP retransmissions', content: { 'application/json': { schema: error } } },
};
const result = { description: 'the device answered', content: { 'application/json': { schema: { $ref: '#/components/schemas/DeviceResult' } } } };
const securityEntry = { description: 'the entry', content: { 'application/json': { schema: { $ref: '#/components/schemas/SecurityEntry' } } } };
const nodeBody = { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } };

export const OPENAPI_DOCUMENT = {
  openapi: '3.0.3',
  info: { title: 'lwm2m-hub REST API', version: '0.1.0', description: 'Registered LwM2M clients, device management and observation.' },
  paths: {
    '/healthz': { get: { summary: 'Health', responses: { '200': { description: 'healthy' } } } },
    '/api/clients': { get: { summary: 'Registered clients', responses: { '200': { description: 'array of registrations' } } } },
    '/api/clients/{endpoint}': {
      get: { summary: 'One registration', parameters: [endpoint], responses: { '200': { description: 'registration' }, '404': errors['404'] } },
    },
    '/api/clients/{endpoint}/{path}': {
      get: { summary: 'Read', parameters: [endpoint, path, format, timeout], responses: { '200': result, ...errors } },
      put: { summary: 'Write (replace)', parameters: [endpoint, path, format, timeout], requestBody: nodeBody, responses: { '200': result, ...errors } },
      patch: { summary: 'Write (partial update of an instance)', parameters: [endpoint, path, format, timeout], requestBody: nodeBody, responses: { '200': result, ...errors } },
      post: {
        summary: 'Execute (on a resource; body: plain-text arguments)',
        parameters: [endpoint, path, timeout],
        requestBody: { required: false, content: { 'text/plain': { schema: { type: 'string' } } } },
        responses: { '200': result, ...errors },
      },
      delete: { summary: 'Delete an object instance', parameters: [endpoint, path, timeout], responses: { '200': result, ...errors } },
    },
    '/api/clients/{endpoint}/{object}': {
      post: { summary: 'Create an object instance', parameters: [endpoint, objectId, format, timeout], requestBody: nodeBody, responses: { '201': result, ...errors } },
    },
    '/api/clients/{endpoint}/{path}/discover': {
      get: { summary: 'Discover', parameters: [endpoint, path, timeout], responses: { '200': result, ...errors } },
    },
    '/api/clients/{endpoint}/{path}/attributes': {
      put: {
        summary: 'Write-Attributes (an empty value removes one)',
        parameters: [endpoint, path, timeout, ...['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax'].map((name) => ({ name, in: 'query', schema: { type: 'number' } }))],
        responses: { '200': result, ...errors },
      },
    },
    '/api/clients/{endpoint}/{path}/observe': {
      post: { summary: 'Observe; notifications arrive on /api/events', parameters: [endpoint, path, format, timeout], responses: { '200': result, ...errors } },
      delete: { summary: 'Cancel an observation (GET with Observe=1)', parameters: [endpoint, path, timeout], responses: { '200': result, ...errors } },
    },
    '/api/clients/{endpoint}/observations': {
      get: { summary: "The client's observations", parameters: [endpoint], responses: { '200': { description: 'array of observations' } } },
    },
    '/api/clients/{endpoint}/composite/read': {
      post: {
        summary: 'Read-Composite (LwM2M 1.1, FETCH with SenML)',
        parameters: [endpoint, format, timeout],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { paths: { type: 'array', items: { type: 'string' } } } } } } },
        responses: { '200': result, ...errors },
      },
    },
    '/api/clients/{endpoint}/composite/observe': {
      post: {
        summary: 'Observe-Composite (LwM2M 1.1, FETCH with Observe=0 and SenML paths)',
        parameters: [endpoint, format, timeout],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { paths: { type: 'array', items: { type: 'string' } } } } } } },
        responses: { '200': result, ...errors },
      },
    },
    '/api/clients/{endpoint}/observations/{id}': {
      delete: {
        summary: 'Cancel an observation by id (single or composite)',
        parameters: [endpoint, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }, timeout],
        responses: { '200': result, ...errors },
      },
    },
    '/api/clients/{endpoint}/composite': {
      put: {
        summary: 'Write-Composite (LwM2M 1.1, iPATCH with SenML)',
        parameters: [endpoint, format, timeout],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { values: { type: 'array', items: { type: 'object' } } } } } } },
        responses: { '200': result, ...errors },
      },
    },
    '/api/clients/{endpoint}/topics': {
      get: {
        summary: "MQTT topics of the client's values, in the layout the hub runs (default: every resource of the instances it registered)",
        parameters: [
          endpoint,
          { name: 'path', in: 'query', description: 'resource or resource instance paths (repeatable): /3303/0/5700', schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true },
        ],
        responses: {
          '200': {
            description: '{"endpoint", "topics": [{"path": "/3303/0/5700", "topics": ["lwm2m/node1/3303/0/5700"], "retained": true}]}; a multiple resource gives a filter with + for its instances',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ResourceTopics' } } },
          },
          '400': errors['400'],
          '404': errors['404'],
        },
      },
    },
    '/api/presence': {
      get: {
        summary: 'Queue-mode clients: awake or sleeping, and how many requests wait for them',
        responses: { '200': { description: '[{"endpoint": "node1", "awake": false, "queued": 2}]' } },
      },
    },
    '/api/objects': { get: { summary: 'Object definitions', responses: { '200': { description: 'array of object definitions' } } } },
    '/api/objects/{id}': {
      get: {
        summary: 'One object definition',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }, { name: 'version', in: 'query', schema: { type: 'string' } }],
        responses: { '200': { description: 'definition' }, '404': errors['404'] },
      },
    },
    '/api/events': { get: { summary: 'Server-Sent Events; resume with Last-Event-ID', responses: { '200': { description: 'text/event-stream' } } } },
    '/api/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3 document' } } } },
    '/api/security': {
      get: { summary: 'PSK entries of every endpoint (keys shown as length and SHA-256 prefix only)', responses: { '200': { description: 'array of SecurityEntry' } } },
    },
    '/api/security/{endpoint}': {
      get: { summary: "An endpoint's PSK entry", parameters: [endpoint], responses: { '200': securityEntry, '404': errors['404'] } },
      put: {
        summary: 'Bind a PSK identity and key to an endpoint (DTLS clients must use that identity to register as it)',
        parameters: [endpoint],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['identity', 'key'],
                additionalProperties: false,
                properties: { identity: { type: 'string', description: 'PSK identity, 1–128 bytes of UTF-8' }, key: { type: 'string', pattern: '^([0-9a-fA-F]{2}){1,64}$', description: 'the key in hex, 1–64 bytes' } },
              },
            },
          },
        },
        responses: {
          '200': { ...securityEntry, description: 'replaced' },
          '201': { ...securityEntry, description: 'created' },
          '400': errors['400'],
          '409': { description: 'the identity is bound to another endpoint', content: { 'application/json': { schema: error } } },
        },
      },
      delete: { summary: "Remove an endpoint's PSK entry", parameters: [endpoint], responses: { '204': { description: 'removed' }, '404': errors['404'] } },
    },
  },
  components: {
    // Only when the hub runs with --http-auth or --http-token; then every route but /healthz needs one of them.
    securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' }, bearerAuth: { type: 'http', scheme: 'bearer' } },
    schemas: {
      SecurityEntry: {
        type: 'object',
        properties: {
          endpoint: { type: 'string' },
          identity: { type: 'string' },
          key: { type: 'object', properties: { bytes: { type: 'integer' }, sha256: { type: 'string', description: 'first 8 hex digits of the SHA-256 of the key' } } },
        },
        example: { endpoint: 'node1', identity: 'node1-id', key: { bytes: 16, sha256: 'be45cb26' } },
      },
      Error: { type: 'object', required: ['error', 'code'], properties: { error: { type: 'string' }, code: { type: 'string' } } },
      DeviceResult: {
        type: 'object',
        properties: {
          code: { type: 'string', example: '2.05' },
          contentFormat: { type: 'integer' },
          content: { $ref: '#/components/schemas/Node' },
          links: { type: 'array', items: { type: 'object' } },
          location: { type: 'string' },
          observationId: { type: 'string' },
        },
      },
      ResourceTopics: {
        type: 'object',
        properties: {
          endpoint: { type: 'string' },
          topics: {
            type: 'array',
            items: {
              type: 'object',
              properties: { path: { type: 'string' }, topics: { type: 'array', items: { type: 'string' } }, retained: { type: 'boolean' } },
            },
          },
        },
      },
      Node: {
        type: 'object',
        description: 'A resource {path, id, name, type, value} or {…, values: {"0": …}}; an instance {path, id, resources: […]}; an object {path, id, name, instances: […]}',
        example: { path: '/3303/0/5700', id: 5700, name: 'Sensor Value', type: 'float', value: 23.5 },
      },
    },
  },
} as const;
