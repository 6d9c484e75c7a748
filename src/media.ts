/**
 * Which URL a browser may load a job's video and poster from. The kernel's
 * emulator serves http on loopback: that is the kernel host's loopback, not
 * necessarily the browser's, and mixed content besides, so it is never used.
 */
import type { IJobSummary } from './types';

const LOOPBACK_HOST =
  /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0|\[::\])$/i;

export function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK_HOST.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** `https://` and not loopback, or null. */
export function safeRemoteUrl(url: string | null): string | null {
  if (!url) {
    return null;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' || isLoopbackUrl(url)) {
    return null;
  }
  return parsed.href;
}

/**
 * The `files/` URL of a path relative to the server root, each segment encoded;
 * null for absolute-looking or `..` paths, which `files/` would not serve anyway.
 */
export function filesUrl(baseUrl: string, localPath: string): string | null {
  const segments = localPath.replace(/\\/g, '/').split('/').filter(Boolean);
  if (
    segments.length === 0 ||
    localPath.startsWith('/') ||
    segments.some(s => s === '..' || s === '.')
  ) {
    return null;
  }
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return `${base}files/${segments.map(encodeURIComponent).join('/')}`;
}

/** The downloaded copy first (it outlives the service's expiring link), else a safe remote URL. */
export function videoSource(
  job: Pick<IJobSummary, 'status' | 'localPath' | 'outputUrl'>,
  baseUrl: string
): string | null {
  if (job.status !== 'succeeded') {
    return null;
  }
  const local = job.localPath ? filesUrl(baseUrl, job.localPath) : null;
  return local ?? safeRemoteUrl(job.outputUrl);
}

/** Only inline images: a poster must not make the page fetch anything. */
export function posterSource(
  job: Pick<IJobSummary, 'posterDataUri'>
): string | null {
  const uri = job.posterDataUri;
  return uri && /^data:image\/(png|jpeg|webp|gif);base64,/i.test(uri)
    ? uri
    : null;
}
