import type { APIGatewayProxyEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { handler } from '../src/handlers/hello';

const event = (file: string) =>
  JSON.parse(readFileSync(path.join(__dirname, '..', 'events', file), 'utf8')) as APIGatewayProxyEvent;

async function hello(e: APIGatewayProxyEvent) {
  const result = await handler(e);
  return { ...result, json: JSON.parse(result.body) as { message: string; timestamp: string } };
}

describe('hello handler', () => {
  it('greets the name from the query string', async () => {
    const result = await hello(event('hello.json'));
    expect(result.statusCode).toBe(200);
    expect(result.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
    expect(result.json.message).toBe('Hello, Alice!');
    expect(new Date(result.json.timestamp).toISOString()).toBe(result.json.timestamp);
    expect(Math.abs(Date.parse(result.json.timestamp) - Date.now())).toBeLessThan(5000);
  });

  it('greets the World when queryStringParameters is null', async () => {
    const e = event('hello-no-query.json');
    expect(e.queryStringParameters).toBeNull();
    expect((await hello(e)).json.message).toBe('Hello, World!');
  });

  it('greets the World when the name is missing or empty', async () => {
    const base = event('hello.json');
    expect((await hello({ ...base, queryStringParameters: { other: 'x' } })).json.message).toBe(
      'Hello, World!',
    );
    expect((await hello({ ...base, queryStringParameters: { name: '' } })).json.message).toBe(
      'Hello, World!',
    );
  });
});
