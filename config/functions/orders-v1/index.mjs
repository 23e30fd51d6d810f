// Version 1 of the example function: an API Gateway (payload 2.0) handler answering with a greeting.
export const handler = async (event, context) => {
  const name = event.queryStringParameters?.name ?? 'world';
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: `hello, ${name}`, version: context.functionVersion }),
  };
};
