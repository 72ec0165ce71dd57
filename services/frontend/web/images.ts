// The images card: upload a picture, then the gallery shows it pending until its thumbnail exists, or
// failed with the reason when there will be none. The gallery shows one page of images at a time.
import { api, unreachable } from './api.js';
import type { ImageList, StoredImage, UploadedImage } from './api-types.js';
import { byId, clearFieldError, setStatus, showFieldError } from './dom.js';
import { formatBytes, problemOf } from './lib.js';

/** Images per page: two rows at desktop width, and the card stays short on a phone. */
const PAGE_SIZE = 8;
/** Gallery refresh: quickly while a thumbnail on the page is pending, slowly otherwise (uploads by others, curl). */
const POLL_PENDING_MS = 1000;
const POLL_IDLE_MS = 5000;

const tiles = new Map<string, HTMLLIElement>();
/** The cursor that opens each page seen so far; the first page has none. */
let cursors: Array<string | undefined> = [undefined];
let pageIndex = 0;
let nextCursor: string | undefined;
let shown: StoredImage[] = [];
let pollTimer: ReturnType<typeof setTimeout> | undefined;
let galleryLoaded = false;

function imageLink(image: StoredImage, className: string): HTMLAnchorElement {
  const link = document.createElement('a');
  link.className = className;
  link.href = image.imageUrl;
  link.target = '_blank';
  link.rel = 'noopener';
  return link;
}

function thumbnailContent(image: StoredImage): HTMLElement {
  if (image.thumbnail === 'pending') {
    const box = document.createElement('div');
    box.className = 'thumb thumb-pending';
    const spinner = document.createElement('span');
    spinner.className = 'spinner';
    spinner.setAttribute('aria-hidden', 'true');
    const text = document.createElement('span');
    text.textContent = 'Making thumbnail…';
    box.append(spinner, text);
    return box;
  }
  if (image.thumbnail === 'failed') {
    // The original may still show in part (a truncated JPEG does): it opens as the thumbnail would.
    const box = imageLink(image, 'thumb thumb-failed');
    box.title = `${image.message ?? 'No thumbnail'} (opens the full image)`;
    const text = document.createElement('span');
    text.textContent = 'No thumbnail';
    box.append(text);
    return box;
  }
  const link = imageLink(image, 'thumb');
  const img = document.createElement('img');
  img.src = image.thumbnailUrl;
  img.alt = `Thumbnail of ${image.name} (opens the full image)`;
  img.width = 200;
  img.height = 200;
  img.decoding = 'async';
  link.append(img);
  return link;
}

const STATE_LABELS: Record<StoredImage['thumbnail'], string> = {
  ready: 'thumbnail ready',
  pending: 'pending',
  failed: 'thumbnail failed',
};

function renderTile(image: StoredImage): HTMLLIElement {
  let tile = tiles.get(image.id);
  if (tile && tile.dataset.state === image.thumbnail) return tile;
  const previous = tile?.dataset.state;
  tile ??= document.createElement('li');
  tile.className = 'tile';
  tile.dataset.id = image.id;
  tile.dataset.state = image.thumbnail;
  const name = document.createElement('p');
  name.className = 'tile-name';
  name.textContent = image.name;
  name.title = image.name;
  const meta = document.createElement('p');
  meta.className = 'tile-meta';
  meta.textContent = `${formatBytes(image.bytes)} · ${STATE_LABELS[image.thumbnail]}`;
  tile.replaceChildren(thumbnailContent(image), name, meta);
  if (image.thumbnail === 'failed') {
    const reason = document.createElement('p');
    reason.className = 'tile-reason';
    reason.textContent = image.message ?? image.reason ?? '';
    tile.append(reason);
  }
  // Say what changed while the page watched, not what the first listing found.
  if (previous === 'pending' && image.thumbnail === 'ready')
    setStatus(byId('gallery-status'), `The thumbnail of “${image.name}” is ready.`, 'ok');
  if (previous === 'pending' && image.thumbnail === 'failed')
    setStatus(
      byId('gallery-status'),
      `No thumbnail for “${image.name}”: ${image.message ?? image.reason}`,
      'error',
    );
  tiles.set(image.id, tile);
  return tile;
}

function renderGallery(): void {
  const gallery = byId('gallery');
  const elements = shown.map(renderTile);
  // Re-append only when the order changed, so focus and loaded images stay where they are.
  if (
    elements.some((element, i) => gallery.children[i] !== element) ||
    gallery.children.length !== elements.length
  )
    gallery.replaceChildren(...elements);
  const ids = new Set(shown.map((image) => image.id));
  for (const id of [...tiles.keys()]) if (!ids.has(id)) tiles.delete(id);
  gallery.hidden = elements.length === 0;
  byId('gallery-empty').hidden = elements.length > 0;
  byId('gallery-pager').hidden = pageIndex === 0 && nextCursor === undefined;
  const newer = byId<HTMLButtonElement>('gallery-newer');
  const older = byId<HTMLButtonElement>('gallery-older');
  const focused = document.activeElement;
  newer.disabled = pageIndex === 0;
  older.disabled = nextCursor === undefined;
  // A button disabled under the keyboard's focus drops it to the page's start: hand it to the other.
  if (focused === older && older.disabled && !newer.disabled) newer.focus();
  if (focused === newer && newer.disabled && !older.disabled) older.focus();
  byId('gallery-page').textContent = `Page ${pageIndex + 1}`;
}

/** Lists the page shown, renders the gallery, and schedules the next poll while the page is visible. */
export async function pollImages(): Promise<void> {
  clearTimeout(pollTimer);
  try {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    const cursor = cursors[pageIndex];
    if (cursor !== undefined) query.set('cursor', cursor);
    const result = await api<ImageList>(`/api/images?${query}`);
    if (result.ok) {
      const { items = [], nextCursor: next } = result.body ?? {};
      if (items.length === 0 && pageIndex > 0) {
        // Everything after this page's cursor is gone: show the last page there is.
        pageIndex -= 1;
        return pollImages();
      }
      shown = items;
      nextCursor = next;
      if (next !== undefined) cursors[pageIndex + 1] = next;
      renderGallery();
      galleryLoaded = true;
      if (byId('gallery-status').dataset.kind === 'error' && !shown.some((i) => i.thumbnail === 'failed'))
        byId('gallery-status').replaceChildren();
    } else
      setStatus(
        byId('gallery-status'),
        `Could not list images: ${problemOf(result.status, result.body).message}`,
        'error',
      );
  } catch (error) {
    setStatus(byId('gallery-status'), `Could not list images: ${unreachable(error).message}`, 'error');
  }
  // Only a pending thumbnail is worth watching closely; a failed one will not change.
  const pending = shown.some((image) => image.thumbnail === 'pending');
  // An upload polls at once, maybe while a poll is under way: one timer chain survives, not two.
  clearTimeout(pollTimer);
  if (!document.hidden)
    pollTimer = setTimeout(() => void pollImages(), pending ? POLL_PENDING_MS : POLL_IDLE_MS);
}

function showPage(index: number): void {
  pageIndex = index;
  void pollImages();
}

/** Wires the upload form, the gallery's pager and its refresh when the page becomes visible again. */
export function setUpImages(): void {
  const form = byId<HTMLFormElement>('upload-form');
  const file = byId<HTMLInputElement>('upload-file');
  const status = byId('upload-status');
  const submit = form.querySelector('button[type="submit"]') as HTMLButtonElement;
  file.addEventListener('change', () => clearFieldError(file));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldError(file);
    submit.disabled = true;
    setStatus(status, 'Uploading…', 'busy');
    try {
      const data = new FormData();
      const chosen = file.files?.[0];
      if (chosen) data.append('file', chosen);
      const result = await api<UploadedImage>('/api/images', { method: 'POST', body: data });
      if (result.ok) {
        const { id, name, bytes, key, imageUrl, thumbnailUrl } = result.body;
        // The newest upload heads the first page: show it there at once, then as listed.
        const pendingTile: StoredImage = {
          id,
          name,
          bytes,
          key,
          imageUrl,
          thumbnailUrl,
          thumbnail: 'pending',
        };
        shown = [pendingTile, ...(pageIndex === 0 ? shown : [])].slice(0, PAGE_SIZE);
        cursors = [undefined];
        pageIndex = 0;
        renderGallery();
        form.reset();
        const message = `Uploaded “${result.body.name}”; its thumbnail is on the way.`;
        setStatus(status, message, 'ok', result.trace);
        void pollImages();
        return;
      }
      // Every upload error is about the file, whichever part of it.
      const problem = problemOf(result.status, result.body);
      showFieldError(file, problem.message);
      setStatus(status, 'Not uploaded.', 'error', result.trace);
      file.focus();
    } catch (error) {
      setStatus(status, `Not uploaded: ${unreachable(error).message}`, 'error');
    } finally {
      submit.disabled = false;
    }
  });
  byId('gallery-newer').addEventListener('click', () => showPage(Math.max(0, pageIndex - 1)));
  byId('gallery-older').addEventListener('click', () => {
    if (nextCursor !== undefined) showPage(pageIndex + 1);
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && galleryLoaded) void pollImages();
  });
}
