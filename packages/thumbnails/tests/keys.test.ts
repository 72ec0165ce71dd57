import { decodeEventKey, thumbnailKeyFor } from '../src/keys';

describe('decodeEventKey', () => {
  it.each([
    ['uploads/1/photo.jpg', 'uploads/1/photo.jpg'],
    ['uploads/1/my+photo+%C3%B1.jpg', 'uploads/1/my photo ñ.jpg'],
    ['uploads/1/a%2Bb.jpg', 'uploads/1/a+b.jpg'],
    ['uploads/1/%E6%97%A5%E6%9C%AC.png', 'uploads/1/日本.png'],
  ])('%s -> %s', (encoded, decoded) => {
    expect(decodeEventKey(encoded)).toBe(decoded);
  });

  it.each(['uploads/1/100%.jpg', 'uploads/1/%E0%A4%A.jpg', 'uploads/1/%C3.jpg'])(
    'returns undefined for invalid percent-encoding: %s',
    (encoded) => {
      expect(decodeEventKey(encoded)).toBeUndefined();
    },
  );
});

describe('thumbnailKeyFor', () => {
  it.each([
    ['uploads/1/photo.jpg', 'thumbnails/1/photo.jpg'],
    ['uploads/abc-123/my photo ñ.jpg', 'thumbnails/abc-123/my photo ñ.jpg'],
    ['uploads/1/album/photo.jpg', 'thumbnails/1/album/photo.jpg'],
    // The brief's `aws s3 cp photo.jpg s3://my-bucket/uploads/photo.jpg`.
    ['uploads/photo.jpg', 'thumbnails/photo.jpg'],
  ])('maps %s -> %s', (source, thumbnail) => {
    expect(thumbnailKeyFor(source)).toEqual({ thumbnailKey: thumbnail });
  });

  it.each([
    ['thumbnails/1/photo.jpg', 'thumbnail-key'],
    ['photos/1/photo.jpg', 'not-an-upload'],
    ['Uploads/1/photo.jpg', 'not-an-upload'],
    ['uploads//photo.jpg', 'not-an-upload'],
    ['uploads/1/', 'not-an-upload'],
    ['uploads/', 'not-an-upload'],
    ['uploads/1/../../thumbnails/x.jpg', 'unsafe-key'],
    ['uploads/../x/y.jpg', 'unsafe-key'],
    ['uploads/1/./photo.jpg', 'unsafe-key'],
  ])('skips %s (%s)', (source, reason) => {
    expect(thumbnailKeyFor(source)).toEqual({ skip: reason });
  });

  it('keeps a name that merely contains dots', () => {
    expect(thumbnailKeyFor('uploads/1/..photo...jpg')).toEqual({
      thumbnailKey: 'thumbnails/1/..photo...jpg',
    });
  });
});
