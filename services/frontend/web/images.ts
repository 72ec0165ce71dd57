// The images card: upload a picture, then the gallery shows it pending until its thumbnail exists.
import { api, unreachable } from './api.js';
import type { StoredImage, UploadedImage } from './api-types.js';
import { byId, clearFieldError, setStatus, showFieldError } from './dom.js';
import { formatBytes, problemOf } from './lib.js';

/** Gallery refresh: quickly while a thumbnail is pending, slowly otherwise (uploads by others, curl). */
const POLL_PENDING_MS = 1000;
const POLL_IDLE_MS = 5000;

const tiles = new Map<string, HTMLLIElement>();
const images = new Map<string, StoredImage>();
/** Uploaded from this page but not in the listing yet. */
const unlisted = new Set<string>();
let pollTimer: ReturnType<typeof setTimeout> | undefined;
let galleryLoaded = false;

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
  const link = document.createElement('a');
  link.className = 'thumb';
  link.href = `/api/images/${encodeURIComponent(image.id)}`;
  link.target = '_blank';
  link.rel = 'noopener';
  const img = document.createElement('img');
  img.src = `/api/images/${encodeURIComponent(image.id)}/thumbnail`;
  img.alt = `Thumbnail of ${image.name} (opens the full image)`;
  img.width = 200;
  img.height = 200;
  img.decoding = 'async';
  link.append(img);
  return link;
}

function renderTile(image: StoredImage): HTMLLIElement {
  let tile = tiles.get(image.id);
  if (tile && tile.dataset.state === image.thumbnail) return tile;
  const fresh = !tile;
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
  const state = image.thumbnail === 'ready' ? 'thumbnail ready' : 'pending';
  meta.textContent = `${formatBytes(image.bytes)} · ${state}`;
  tile.replaceChildren(thumbnailContent(image), name, meta);
  if (!fresh && image.thumbnail === 'ready')
    setStatus(byId('gallery-status'), `The thumbnail of “${image.name}” is ready.`, 'ok');
  tiles.set(image.id, tile);
  return tile;
}

function renderGallery(): void {
  const ordered = [...images.values()].sort((a, b) => (b.uploadedAt ?? '').localeCompare(a.uploadedAt ?? ''));
  const gallery = byId('gallery');
  const elements = ordered.map(renderTile);
  // Re-append only when the order changed, so focus and loaded images stay where they are.
  if (
    elements.some((element, i) => gallery.children[i] !== element) ||
    gallery.children.length !== elements.length
  )
    gallery.replaceChildren(...elements);
  for (const id of [...tiles.keys()]) if (!images.has(id)) tiles.delete(id);
  gallery.hidden = elements.length === 0;
  byId('gallery-empty').hidden = elements.length > 0;
}

/** Lists the uploads, renders the gallery, and schedules the next poll while the page is visible. */
export async function pollImages(): Promise<void> {
  clearTimeout(pollTimer);
  try {
    const result = await api<{ items?: StoredImage[] }>('/api/images');
    if (result.ok) {
      const listed = result.body?.items ?? [];
      for (const image of listed) unlisted.delete(image.id);
      // What this page just uploaded stays on show until the listing has it too.
      const kept = [...unlisted].map((id) => images.get(id)).filter((image) => image !== undefined);
      images.clear();
      for (const image of [...listed, ...kept]) images.set(image.id, image);
      renderGallery();
      galleryLoaded = true;
      if (byId('gallery-status').dataset.kind === 'error') byId('gallery-status').replaceChildren();
    } else
      setStatus(
        byId('gallery-status'),
        `Could not list images: ${problemOf(result.status, result.body).message}`,
        'error',
      );
  } catch (error) {
    setStatus(byId('gallery-status'), `Could not list images: ${unreachable(error).message}`, 'error');
  }
  const pending = [...images.values()].some((image) => image.thumbnail === 'pending');
  // An upload polls at once, maybe while a poll is under way: one timer chain survives, not two.
  clearTimeout(pollTimer);
  if (!document.hidden)
    pollTimer = setTimeout(() => void pollImages(), pending ? POLL_PENDING_MS : POLL_IDLE_MS);
}

/** Wires the upload form and the refresh of the gallery when the page becomes visible again. */
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
        const { id, name, bytes } = result.body;
        images.set(id, { id, name, bytes, uploadedAt: new Date().toISOString(), thumbnail: 'pending' });
        unlisted.add(id);
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
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && galleryLoaded) void pollImages();
  });
}
