import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** GET /hello?name=Alice -> {"message":"Hello, Alice!","timestamp":"<ISO 8601>"}; the name defaults to World. */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  // API Gateway sends null, not {}, when the request has no query string.
  const name = event.queryStringParameters?.name || 'World';
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ message: `Hello, ${name}!`, timestamp: new Date().toISOString() }),
  };
};
