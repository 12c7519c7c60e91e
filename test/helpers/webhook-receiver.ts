import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** A fresh Standard Webhooks secret. */
export const webhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** How the receiver treats one request: a status, hang (never answer), or close the connection. */
export type Behaviour = number | 'hang' | 'close';

export interface ReceivedWebhook {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** What the receiver did with it. */
  answer: Behaviour;
}

/**
 * A real webhook receiver (node:http on a free loopback port) that answers as told: the
 * next behaviours in `script`, then `otherwise`. It keeps every request it got.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Behaviours for the next requests, in order; then `otherwise`. */
  script: Behaviour[] = [];
  otherwise: Behaviour = 204;
  private readonly hanging = new Set<ServerResponse>();
  private server: Server | null = null;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = this.script.shift() ?? this.otherwise;
        this.received.push({ id: String(req.headers['webhook-id']), headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now(), answer });
        if (answer === 'hang') this.hanging.add(res);
        else if (answer === 'close') req.socket.destroy();
        else res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Requests that carried this webhook-id. */
  deliveriesOf(id: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.id === id);
  }

  /** The ones answered 2xx, as their verified payloads (`standardwebhooks` checks the signature). */
  accepted(secret: string): { id: string; type: string; timestamp: string; data: any }[] {
    return this.received.filter((r) => typeof r.answer === 'number' && r.answer < 300).map((r) => ({ id: r.id, ...(verify(secret, r) as any) }));
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Verifies one request as a receiver would, with the `standardwebhooks` package; throws if it does not verify. */
export function verify(secret: string, r: ReceivedWebhook): unknown {
  const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(r.headers[h])]));
  return new Webhook(secret).verify(r.body, headers);
}
