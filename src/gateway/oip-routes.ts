import { type Context, Hono } from 'hono';
import { compress } from 'hono/compress';
import { COMPRESSIBLE_CONTENT_TYPE_REGEX } from 'hono/utils/compress';
import { readBody } from '../http/read-body.js';
import { parseJsonText } from '../http/read-json.js';
import { requestHeader } from '../http/request-header.js';
import { parseInferRequest, stringParameter } from './oip-input.js';
import {
  HEADER_LENGTH_HEADER,
  restInferResponse,
  restInputs,
  splitInferBody,
} from './oip-rest-body.js';
import type { OipService } from './oip-service.js';
import { setPredictionHeaders } from './prediction-headers.js';

/**
 * KServe / Triton Open Inference Protocol v2 over REST, so their clients call modelgate
 * unchanged: a table of endpoints over the OIP service. Errors under /v2 take the
 * specification's shape, `{"error": "<message>"}` (see http/errors-to-json.ts).
 */
export function oipRoutes(oip: OipService) {
  const infer = async (c: Context, version: string | undefined) => {
    const { json, binary } = splitInferBody(
      await readBody(c),
      requestHeader(c, HEADER_LENGTH_HEADER),
    );
    const request = parseInferRequest(parseJsonText(json));
    const result = await oip.infer({
      model: c.req.param('model') as string,
      version: version ?? (requestHeader(c, 'x-model-version') || undefined),
      userId:
        requestHeader(c, 'x-user-id')?.trim() || stringParameter(request.parameters, 'userId'),
      sessionId: stringParameter(request.parameters, 'sessionId'),
      inputs: restInputs(request, binary),
      outputs: request.outputs?.map((o) => o.name),
      requestId: c.get('requestId'),
    });
    setPredictionHeaders(c, result.prediction);
    const response = restInferResponse(request, c.get('requestId'), result);
    const header = Buffer.from(JSON.stringify(response.json), 'utf8');
    // Content-Length set here is what lets compression skip small answers.
    if (response.binary.length === 0) {
      return c.body(new Uint8Array(header), 200, {
        'Content-Type': 'application/json',
        'Content-Length': String(header.length),
      });
    }
    const body = Buffer.concat([header, ...response.binary]);
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(body.length),
      [HEADER_LENGTH_HEADER]: String(header.length),
    });
  };

  // Large answers (a batch's outputs) compressed when the client accepts it, binary
  // tensor data too (Triton's client asks for it with response compression); answers
  // under 1 KiB are sent as they are.
  const compressLarge = compress({
    contentTypeFilter: (type) =>
      COMPRESSIBLE_CONTENT_TYPE_REGEX.test(type) || type === 'application/octet-stream',
  });

  const serverMetadata = (c: Context) => c.json(oip.serverMetadata());
  const modelReady = (c: Context) => {
    const hosted = oip.modelReady(c.req.param('model') as string, c.req.param('version'));
    return c.json({ name: hosted.model, version: hosted.version, ready: true });
  };

  return (
    new Hono()
      .use('/v2/models/:model/infer', compressLarge)
      .use('/v2/models/:model/versions/:version/infer', compressLarge)
      // The specification's path is /v2/ (open_inference_rest.yaml), its prose says /v2.
      .get('/v2', serverMetadata)
      .get('/v2/', serverMetadata)
      .get('/v2/health/live', (c) => c.json({ live: oip.serverLive() }))
      .get('/v2/health/ready', (c) => {
        const readiness = oip.serverReadiness();
        return c.json(readiness, readiness.ready ? 200 : 503);
      })
      .get('/v2/models/:model', (c) => c.json(oip.modelMetadata(c.req.param('model'))))
      .get('/v2/models/:model/versions/:version', (c) =>
        c.json(oip.modelMetadata(c.req.param('model'), c.req.param('version'))),
      )
      .get('/v2/models/:model/ready', modelReady)
      .get('/v2/models/:model/versions/:version/ready', modelReady)
      .post('/v2/models/:model/infer', (c) => infer(c, undefined))
      .post('/v2/models/:model/versions/:version/infer', (c) => infer(c, c.req.param('version')))
  );
}
