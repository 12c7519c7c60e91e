import type { Socket } from 'socket.io-client';
import { createRoom, guest } from '../helpers/http-client.js';
import { ask } from '../helpers/socket-client.js';

/**
 * Guests ann and bob in a new public room of ann's, each on a /chat socket (from `open`)
 * that has joined it: a is ann's, b is bob's.
 */
export async function roomWithTwo(url: string, open: (token: string) => Promise<Socket>) {
  const ann = await guest(url, 'ann');
  const bob = await guest(url, 'bob');
  const room = await createRoom(url, ann.token);
  const a = await open(ann.token);
  const b = await open(bob.token);
  await ask(a, 'room:join', { roomId: room.id });
  await ask(b, 'room:join', { roomId: room.id });
  return { ann, bob, room, a, b };
}
