// Version 2 of the example function: the same answer, plus the time. Set FAIL_PERCENT (lambda.env) to make
// it throw on that share of calls and watch an error-rate alarm roll the canary back.
const failPercent = Number(process.env.FAIL_PERCENT ?? 0);

export const handler = async (event, context) => {
  if (Math.random() * 100 < failPercent) throw new Error('version 2 failed this call on purpose');
  const name = event.queryStringParameters?.name ?? 'world';
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: `hello, ${name}`, version: context.functionVersion, at: new Date().toISOString() }),
  };
};
