import { HeadBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * An S3 client for AWS, MinIO or s3rver, configured from the environment (AWS_REGION,
 * AWS_ENDPOINT_URL_S3, credentials) unless `overrides` says otherwise. Create it once per process
 * or Lambda container.
 */
export function createS3Client(overrides: S3ClientConfig = {}): S3Client {
  const customEndpoint = overrides.endpoint !== undefined || Boolean(process.env.AWS_ENDPOINT_URL_S3);
  return new S3Client({
    maxAttempts: 3,
    // Resolve each command's middleware stack once, not on every send: nothing here changes a stack
    // after the first request, and every request through the client (a poll, a thumbnail) pays it.
    cacheMiddleware: true,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 10_000 },
    // MinIO and s3rver serve buckets by path, not by virtual host.
    forcePathStyle: customEndpoint,
    // The SDK's default CRC checksums send aws-chunked bodies, which s3rver stores framing and all;
    // S3 and MinIO accept either, so checksums are sent only where an operation requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  });
}

/** Readiness: the bucket answers, within a short deadline. */
export async function checkBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(2000) });
}
