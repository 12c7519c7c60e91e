import { createHmac } from 'node:crypto';

/** The key bytes of a `whsec_<base64>` secret (its format is checked by the configuration). */
export function webhookSecretKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

/** The headers of one signed request (Standard Webhooks: `v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`). */
export function signedHeaders(key: Buffer, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': `v1,${signature}` };
}
