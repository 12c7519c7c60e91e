import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { createRoom, guest } from './http-client.js';
import { ask, connect, next } from './socket-client.js';
import type { TestServer } from './test-server.js';

/**
 * What the store-outage suites run their traffic on: one room with two chat sockets per node
 * and two call peers on the first node. Every socket opened is pushed to `sockets`, for the
 * suite to close. `signal()` sends an offer from one peer to the other and checks it arrived
 * (signaling needs no store), with an answer within `signalWithinMs`.
 */
export async function roomOnNodes(nodes: TestServer[], sockets: Socket[], signalWithinMs = 3000) {
  const ann = await guest(nodes[0]!.url, 'ann');
  const room = await createRoom(nodes[0]!.url, ann.token);
  const open = async (node: TestServer, ns: '/chat' | '/rtc') => {
    const s = await connect(node.url, ns, ann.token);
    sockets.push(s);
    return s;
  };
  const chat: Socket[] = [];
  for (const node of [...nodes, ...nodes]) {
    const s = await open(node, '/chat');
    expect((await ask(s, 'room:join', { roomId: room.id })).ok).to.equal(true);
    chat.push(s);
  }
  const [rtcA, rtcB] = [await open(nodes[0]!, '/rtc'), await open(nodes[0]!, '/rtc')];
  const a = await ask(rtcA, 'call:join', { roomId: room.id });
  const b = await ask(rtcB, 'call:join', { roomId: room.id });
  const signal = async () => {
    const offer = next(rtcB, 'rtc:signal');
    expect((await ask(rtcA, 'rtc:signal', { to: b.peerId, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } }, signalWithinMs)).ok).to.equal(true);
    expect((await offer).from).to.equal(a.peerId);
  };
  return { ann, room, chat, signal };
}
