/**
 * The OpenAPI 3.0 document of the device API (docs/device-api.md), served at `GET /openapi.json`. The API
 * is plain node:http (docs/architecture.md "Where Nest is not used"), so the document is written here,
 * beside the routes it describes; test/e2e/device-api-openapi.spec.ts validates it and sends one request
 * per operation, so a route and its description cannot drift apart unnoticed.
 */
const eid = { type: 'string', pattern: '^[0-9]{32}$', description: 'EID (32 digits)', example: '89049032123451234512345678901235' };
const hex = (description: string) => ({ type: 'string', pattern: '^([0-9A-Fa-f]{2})+$', description });
const error = {
  description: '`{ error: { code, message } }`',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};
const json = (schema: Record<string, unknown>) => ({ 'application/json': { schema } });
const eidParameter = { name: 'eid', in: 'path', required: true, schema: eid };

const EVENT_TYPES = [
  'refresh', 'profile-switched', 'fallback-triggered', 'profile-installed', 'attach', 'notification-queued', 'notification-sent',
  'notification-delivered', 'connectivity', 'power-loss', 'es5-script', 'es5-refused',
];

export const DEVICE_API_OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'Virtual devices: device API and raw APDU endpoint',
    version: '1',
    description:
      'What a device under test sees of its virtual eUICC (docs/device-api.md): the enabled profile, lifecycle states, connectivity and fall-back, ' +
      'a Milenage network attach, an event stream, and raw C-APDUs to the card. Local and unauthenticated: it stands for the device itself. ' +
      'No key material (Ki, OPc, card keys) is ever returned.',
  },
  paths: {
    '/devices': {
      get: {
        operationId: 'listDevices',
        summary: 'A page of the devices this simulator serves',
        parameters: [
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: {
          '200': { description: 'the page', content: json({ $ref: '#/components/schemas/DevicePage' }) },
          '400': error,
        },
      },
    },
    '/devices/{eid}': {
      get: {
        operationId: 'getDevice',
        summary: 'The device: connectivity, the enabled profile, every profile with its lifecycle code and name',
        parameters: [eidParameter],
        responses: { '200': { description: 'the device', content: json({ $ref: '#/components/schemas/DeviceInfo' }) }, '404': error },
      },
    },
    '/devices/{eid}/connectivity': {
      post: {
        operationId: 'setConnectivity',
        summary: 'Changes Wi-Fi and cellular coverage; losing coverage on a profile with a fall-back attribute triggers the fall-back (SGP.02 §3.15)',
        parameters: [eidParameter],
        requestBody: {
          required: true,
          content: json({ type: 'object', properties: { wifi: { type: 'boolean' }, cellular: { type: 'boolean', description: 'coverage of the enabled profile\'s network' } }, example: { cellular: false } }),
        },
        responses: {
          '200': {
            description: 'the new connectivity',
            content: json({ type: 'object', required: ['connectivity', 'fallbackTriggered'], properties: { connectivity: { $ref: '#/components/schemas/Connectivity' }, fallbackTriggered: { type: 'boolean' } } }),
          },
          '400': error,
          '404': error,
        },
      },
    },
    '/devices/{eid}/attach': {
      post: {
        operationId: 'attach',
        summary: 'A network attach: Milenage AKA (3GPP TS 33.102 §6.3) through the card\'s USIM with the enabled profile',
        parameters: [eidParameter],
        responses: { '200': { description: 'the attach event', content: json({ $ref: '#/components/schemas/DeviceEvent' }) }, '404': error },
      },
    },
    '/devices/{eid}/events': {
      get: {
        operationId: 'streamEvents',
        summary: 'Server-Sent Events: one `event: <type>` with a DeviceEvent as `data` per event, until the client closes',
        parameters: [eidParameter],
        responses: { '200': { description: 'the stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, '404': error },
      },
    },
    '/euicc/{eid}/apdu': {
      post: {
        operationId: 'transmitApdu',
        summary: 'One C-APDU to the card (ISO/IEC 7816-4), as hex in JSON or as raw bytes; the R-APDU comes back the same way',
        parameters: [eidParameter],
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { type: 'object', required: ['apdu'], properties: { apdu: hex('the C-APDU') }, example: { apdu: '00A4040010A0000005591010FFFFFFFF8900000200' } } },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
        responses: {
          '200': {
            description: 'the R-APDU',
            content: {
              'application/json': { schema: { type: 'object', required: ['response', 'sw'], properties: { response: hex('the whole R-APDU, data and status word'), sw: { type: 'string', pattern: '^[0-9A-F]{4}$' } } } },
              'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
            },
          },
          '400': error,
          '404': error,
          '409': { ...error, description: 'the card lost power (fault plan) and sent nothing' },
          '413': { ...error, description: 'more than an extended C-APDU' },
        },
      },
    },
    '/openapi.json': {
      get: { operationId: 'openApi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.0', content: json({ type: 'object' }) } } },
    },
  },
  components: {
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', example: 'ERR_SIM_UNKNOWN_EID' }, message: { type: 'string' } } } },
      },
      DevicePage: {
        type: 'object',
        required: ['total', 'offset', 'devices'],
        properties: {
          total: { type: 'integer' },
          offset: { type: 'integer' },
          devices: { type: 'array', items: { type: 'object', required: ['eid', 'model'], properties: { eid, model: { $ref: '#/components/schemas/Model' } } } },
        },
      },
      Model: { type: 'string', enum: ['oven', 'bbq', 'generic'] },
      Connectivity: {
        type: 'object',
        required: ['wifi', 'cellularCoverage'],
        properties: { wifi: { type: 'string', enum: ['up', 'down'] }, cellularCoverage: { type: 'boolean' } },
      },
      Profile: {
        type: 'object',
        required: ['aid', 'lifeCycle', 'lifeCycleName', 'fallback'],
        properties: {
          aid: hex('the ISD-P AID'),
          lifeCycle: { type: 'integer', description: 'GP coding (SGP.02 Annex E): 0x07, 0x0F, 0x1F, 0x3F' },
          lifeCycleName: { type: 'string', enum: ['SELECTABLE', 'PERSONALIZED', 'DISABLED', 'ENABLED'], description: 'the name of lifeCycle' },
          fallback: { type: 'boolean', description: 'the fall-back attribute (SGP.02 §3.15)' },
          iccid: { type: 'string' },
          imsi: { type: 'string' },
        },
      },
      DeviceInfo: {
        type: 'object',
        required: ['eid', 'model', 'connectivity', 'profiles', 'pendingNotifications'],
        properties: {
          eid,
          model: { $ref: '#/components/schemas/Model' },
          connectivity: { $ref: '#/components/schemas/Connectivity' },
          enabled: { type: 'object', required: ['aid'], properties: { aid: hex('the enabled ISD-P'), iccid: { type: 'string' }, imsi: { type: 'string' } } },
          profiles: { type: 'array', items: { $ref: '#/components/schemas/Profile' } },
          pendingNotifications: { type: 'integer', description: 'eUICC notifications not yet confirmed by the SM-SR (SGP.02 §5.7)' },
        },
      },
      DeviceEvent: {
        type: 'object',
        required: ['type', 'eid', 'at'],
        properties: { type: { type: 'string', enum: EVENT_TYPES }, eid, at: { type: 'string', format: 'date-time' } },
        additionalProperties: true,
        description: 'the fields of each type are listed in docs/device-api.md "Events" (for attach: result ok | mac-failure | sync-failure | no-coverage | no-profile | unsupported, imsi)',
      },
    },
  },
} as const;
