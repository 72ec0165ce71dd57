import { InvalidNotificationError, parseNotification } from '../src';
import { isObjectCreated } from '../src/notification';
import { minioEvent, s3Event } from './fixtures';

describe('parseNotification', () => {
  it('reads every record of an S3 notification, keeping keys as encoded', () => {
    expect(parseNotification(s3Event('uploads/1/a b.jpg', 'uploads/2/c.png'))).toEqual([
      { eventName: 'ObjectCreated:Put', bucket: 'images', key: 'uploads/1/a+b.jpg' },
      { eventName: 'ObjectCreated:Put', bucket: 'images', key: 'uploads/2/c.png' },
    ]);
  });

  it("reads MinIO's webhook body", () => {
    expect(parseNotification(minioEvent('uploads/1/ñ.jpg'))).toEqual([
      { eventName: 's3:ObjectCreated:Put', bucket: 'images', key: 'uploads/1/%C3%B1.jpg' },
    ]);
  });

  it('parses a string or byte body as JSON', () => {
    const body = JSON.stringify(s3Event('uploads/1/a.jpg'));
    expect(parseNotification(body)).toHaveLength(1);
    expect(parseNotification(new TextEncoder().encode(body))).toHaveLength(1);
  });

  it('accepts a notification without records', () => {
    expect(parseNotification({ Records: [] })).toEqual([]);
  });

  it.each([
    ['null', null, /Records array/],
    ['an array', [], /Records array/],
    ['an object without Records', { Service: 'Amazon S3', Event: 's3:TestEvent' }, /Records array/],
    ['Records that is not an array', { Records: {} }, /Records array/],
    ['invalid JSON', '{"Records": [', /not JSON/],
    ['a MinIO body with a non-string Key', { EventName: 's3:ObjectCreated:Put', Key: 1, Records: [] }, /Key/],
    [
      'a record without eventName',
      { Records: [{ s3: { bucket: { name: 'b' }, object: { key: 'k' } } }] },
      /eventName/,
    ],
    [
      'a record without a bucket',
      { Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: 'k' } } }] },
      /bucket/,
    ],
    [
      'a record with an empty key',
      { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: '' } } }] },
      /Records\[0\]\.s3\.object\.key/,
    ],
  ])('rejects %s', (_name, body, message) => {
    expect(() => parseNotification(body)).toThrow(InvalidNotificationError);
    expect(() => parseNotification(body)).toThrow(message);
  });
});

describe('isObjectCreated', () => {
  it.each([
    ['ObjectCreated:Put', true],
    ['ObjectCreated:CompleteMultipartUpload', true],
    ['s3:ObjectCreated:Post', true],
    ['ObjectRemoved:Delete', false],
    ['s3:ObjectRemoved:DeleteMarkerCreated', false],
    ['s3:ObjectAccessed:Get', false],
  ])('%s -> %s', (eventName, expected) => {
    expect(isObjectCreated(eventName)).toBe(expected);
  });
});
