import { createHash } from 'node:crypto';

/**
 * A delivery's id: its event's id plus a digest of the URL. Stable, so that enqueueing the
 * same event again finds the delivery already there, and safe in a URL path (base64url).
 */
export function deliveryIdOf(eventId: string, url: string): string {
  return `${eventId}_${createHash('sha256').update(url).digest('base64url').slice(0, 10)}`;
}
