import type { Context } from 'aws-lambda';
import { createLogger } from '@twin/observability/logger';
import { currentRequestId } from '@twin/observability/request-context';
import { apiGatewayHandler, type ProxyRequest } from '../src/adapters/api-gateway';
import { apiEvent } from './helpers';

const context = (awsRequestId: string) => ({ awsRequestId }) as Context;

describe('apiGatewayHandler: the function side of the REST proxy integration', () => {
  it('hands a route the request as the Express shells see it, and sends its answer as JSON', async () => {
    const seen: ProxyRequest[] = [];
    const handler = apiGatewayHandler({
      'POST /products': async (request) => {
        seen.push(request);
        return { statusCode: 201, body: { ok: true } };
      },
    });
    const event = apiEvent('POST', '/Prod/products?limit=1&cursor=a&cursor=b', {
      body: Buffer.from([0x7b, 0xe9, 0x7d]),
      contentType: 'application/json',
    });
    expect(await handler(event, context('r-1'))).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"ok":true}',
    });
    expect(seen[0]).toMatchObject({
      resource: '/products',
      query: { limit: '1', cursor: ['a', 'b'] },
      headers: { 'content-type': 'application/json', host: 'localhost' },
    });
    // The bytes the client sent, which API Gateway base64-encoded (BinaryMediaTypes */*).
    expect([...(seen[0]?.body ?? [])]).toEqual([0x7b, 0xe9, 0x7d]);
  });

  it('answers an event for a route it does not serve with a JSON 404, and 204 with no body', async () => {
    const handler = apiGatewayHandler({ 'DELETE /products/{id}': async () => ({ statusCode: 204 }) });
    const id = 'a70dd86b-7052-4f2a-8c64-bf27b5fc6997';
    expect(await handler(apiEvent('DELETE', `/products/${id}`), context('r-2'))).toEqual({
      statusCode: 204,
      headers: {},
      body: '',
    });
    expect(await handler(apiEvent('GET', '/products'), context('r-3'))).toMatchObject({
      statusCode: 404,
      body: '{"error":"no route for GET /products"}',
    });
  });

  it("gives every log line of an invocation that invocation's request id, and none after it", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('products', 'info', {
      write: (line: string) => lines.push(JSON.parse(line)),
    });
    const handler = apiGatewayHandler({
      'GET /products': async () => {
        logger.info('inside');
        await new Promise((resolve) => setTimeout(resolve, 1));
        logger.info('after a wait');
        return { statusCode: 200, body: {} };
      },
    });
    await handler(apiEvent('GET', '/products'), context('invocation-1'));
    await handler(apiEvent('GET', '/products'), context('invocation-2'));
    logger.info('between invocations');
    expect(lines.map((line) => [line.msg, line.request_id])).toEqual([
      ['inside', 'invocation-1'],
      ['after a wait', 'invocation-1'],
      ['inside', 'invocation-2'],
      ['after a wait', 'invocation-2'],
      ['between invocations', undefined],
    ]);
    expect(currentRequestId()).toBeUndefined();
  });
});
