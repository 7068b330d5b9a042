// A Lambda context as the runtime builds one for each invocation: a fresh object, 3 s left by default.
let invocations = 0
export const lambdaContext = (remainingMs = 3_000) => {
  invocations++
  const deadline = Date.now() + remainingMs
  return {
    awsRequestId: `bench-${invocations}`,
    functionName: 'bench',
    functionVersion: '$LATEST',
    memoryLimitInMB: '1024',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  }
}
