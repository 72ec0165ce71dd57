import express from 'express';
import request from 'supertest';
import { createLogger } from '@twin/observability';
import { errorHandler, keepUndecodableSegments } from '../src/middleware';

describe('keepUndecodableSegments', () => {
  const app = express();
  app.use(keepUndecodableSegments);
  app.get('/items/:id/:part', (req, res) => {
    res.json({ params: req.params, url: req.url, originalUrl: req.originalUrl });
  });
  app.use(errorHandler(createLogger('middleware-test', 'silent')));

  it.each([
    ['/items/%ff/a', { id: '%ff', part: 'a' }],
    ['/items/%/%E0%A4%A', { id: '%', part: '%E0%A4%A' }],
    // A segment that decodes is decoded, beside one that does not.
    ['/items/caf%C3%A9/%c0%af', { id: 'café', part: '%c0%af' }],
    ['/items/a%2Fb/100%25', { id: 'a/b', part: '100%' }],
  ])('hands the route %s with each undecodable segment as it came', async (path, params) => {
    const answer = await request(app).get(`${path}?q=%ff`).expect(200);
    expect(answer.body).toMatchObject({ params, originalUrl: `${path}?q=%ff` });
    // The query string is the query parser's business: it passes untouched.
    expect(answer.body.url).toMatch(/\?q=%ff$/);
  });

  it('leaves a path without undecodable segments as it is', async () => {
    const answer = await request(app).get('/items/a%20b/c?x=1').expect(200);
    expect(answer.body).toMatchObject({ params: { id: 'a b', part: 'c' }, url: '/items/a%20b/c?x=1' });
  });
});
