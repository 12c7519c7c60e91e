"""
Drives the server the way a Python author would, with python-socketio (Debian's 5.7.2):
auth, rooms, chat with clientMsgId, catch-up with room:join {lastSeq}, paging, signaling
and errors. Run by test/integration/python-client.test.ts as
`python3 compat_client.py <base url> <socket path>`; exits 0 and prints OK, or raises.

Two rules for non-JavaScript clients show here (README, "Clients in other languages"):
- handlers take *args: with connection-state recovery on, events that go through the
  adapter carry the recovery offset as a trailing argument, and a one-argument handler
  would raise a TypeError and lose the event;
- python-socketio has no connection-state recovery, so after any reconnect a client
  rejoins with room:join {roomId, lastSeq} and pages chat:history while complete is false.
"""
import json
import sys
import threading
import urllib.error
import urllib.request

import socketio

BASE, PATH = sys.argv[1], sys.argv[2].strip('/')
TIMEOUT = 5


def rest(method, path, token=None, body=None):
    headers = {'content-type': 'application/json'}
    if token:
        headers['authorization'] = 'Bearer ' + token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as res:
            return res.status, json.loads(res.read() or b'null')
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b'null')


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


class Person:
    """One user with one python-socketio client on /chat and /rtc, recording every event."""

    def __init__(self, name):
        status, body = rest('POST', '/api/auth/guest', body={'name': name})
        expect(status == 201, f'guest {name}: {status} {body}')
        self.token, self.user = body['token'], body['user']
        self.events = []
        self.cond = threading.Condition()
        self.sio = None

    def connect(self):
        self.sio = socketio.Client(reconnection=False)
        for ns in ('/chat', '/rtc'):
            # *args: the payload is args[0]; a trailing recovery offset may follow.
            self.sio.on('*', lambda event, *args, ns=ns: self._record(ns, event, args), namespace=ns)
        self.sio.connect(BASE, auth={'token': self.token}, namespaces=['/chat', '/rtc'],
                         socketio_path=PATH, transports=['websocket'], wait_timeout=TIMEOUT)
        self.wait('/chat', 'hello')
        return self

    def _record(self, ns, event, args):
        with self.cond:
            self.events.append((ns, event, args))
            self.cond.notify_all()

    def wait(self, ns, event, match=lambda payload: True):
        """The arguments of the first recorded `event` whose payload matches."""
        def found():
            return next((a for (n, e, a) in self.events if n == ns and e == event and match(a[0])), None)
        with self.cond:
            self.cond.wait_for(lambda: found() is not None, timeout=TIMEOUT)
            args = found()
        expect(args is not None, f'{self.user["name"]} got no {event} on {ns}')
        return args

    def call(self, ns, event, payload):
        return self.sio.call(event, payload, namespace=ns, timeout=TIMEOUT)

    def close(self):
        self.sio.disconnect()


def refused_handshake():
    """A bad token: connect_error on each namespace, its message the code."""
    errors = []
    sio = socketio.Client(reconnection=False)
    sio.on('connect_error', lambda data: errors.append(data), namespace='/chat')
    try:
        sio.connect(BASE, auth={'token': 'not-a-jwt'}, namespaces=['/chat'], socketio_path=PATH,
                    transports=['websocket'], wait_timeout=TIMEOUT)
        raise AssertionError('a bad token connected')
    except socketio.exceptions.ConnectionError:
        pass
    finally:
        sio.disconnect()
    expect(errors and errors[0]['message'] == 'UNAUTHORIZED', f'connect_error: {errors}')


def chat(ann, bob, room):
    r = ann.call('/chat', 'room:join', {'roomId': room})
    expect(r['ok'] and r['messages'] == [] and r['complete'], f'ann joins: {r}')
    expect(bob.call('/chat', 'room:join', {'roomId': room})['ok'], 'bob joins')
    sent = ann.call('/chat', 'chat:send', {'roomId': room, 'clientMsgId': 'py-1', 'text': 'hello from Python'})
    expect(sent['ok'] and sent['message']['seq'] == 1, f'send: {sent}')
    again = ann.call('/chat', 'chat:send', {'roomId': room, 'clientMsgId': 'py-1', 'text': 'hello from Python'})
    expect(again['message'] == sent['message'], 'a retried clientMsgId returns the original message')
    live = bob.wait('/chat', 'chat:message', lambda m: m['seq'] == 1)
    # Through the adapter with recovery on: the payload, then the recovery offset.
    expect(live[0]['text'] == 'hello from Python' and len(live) == 2 and isinstance(live[1], str), f'live: {live}')
    for i in range(2, 7):
        ann.call('/chat', 'chat:send', {'roomId': room, 'clientMsgId': f'py-{i}', 'text': f'message {i}'})
    bob.wait('/chat', 'chat:message', lambda m: m['seq'] == 6)

    # No client-side recovery in python-socketio: a new connection rejoins with lastSeq.
    bob.close()
    for i in range(7, 9):
        ann.call('/chat', 'chat:send', {'roomId': room, 'clientMsgId': f'py-{i}', 'text': f'message {i}'})
    bob.connect()
    back = bob.call('/chat', 'room:join', {'roomId': room, 'lastSeq': 6})
    expect([m['seq'] for m in back['messages']] == [7, 8] and back['complete'], f'catch-up: {back}')

    page = bob.call('/chat', 'chat:history', {'roomId': room, 'before': 9, 'limit': 3})
    expect([m['seq'] for m in page['messages']] == [6, 7, 8] and page['hasMore'], f'page back: {page}')
    page = bob.call('/chat', 'chat:history', {'roomId': room, 'after': 0, 'limit': 3})
    expect([m['seq'] for m in page['messages']] == [1, 2, 3] and page['hasMore'], f'page on: {page}')
    expect(bob.call('/chat', 'chat:ack', {'roomId': room, 'seq': 8}) == {'ok': True}, 'chat:ack')
    bob.call('/chat', 'chat:typing', {'roomId': room, 'typing': True})
    ann.wait('/chat', 'chat:typing', lambda e: e['userId'] == bob.user['id'])


def errors(ann):
    bad = ann.call('/chat', 'chat:send', {'roomId': 'x', 'text': 'no clientMsgId'})
    expect(not bad['ok'] and bad['error']['code'] == 'VALIDATION_FAILED', f'validation: {bad}')
    missing = ann.call('/chat', 'room:join', {'roomId': 'no-such-room'})
    expect(missing['error']['code'] == 'ROOM_NOT_FOUND', f'unknown room: {missing}')
    status, other = rest('POST', '/api/rooms', ann.token, {'name': 'elsewhere'})
    expect(status == 201, 'second room')
    outside = ann.call('/chat', 'chat:send', {'roomId': other['id'], 'clientMsgId': 'py-x', 'text': 'hi'})
    expect(outside['error']['code'] == 'NOT_IN_ROOM', f'not joined: {outside}')


def signaling(ann, bob, room):
    a = ann.call('/rtc', 'call:join', {'roomId': room})
    expect(a['ok'] and a['peers'] == [], f'ann calls: {a}')
    b = bob.call('/rtc', 'call:join', {'roomId': room})
    expect([p['peerId'] for p in b['peers']] == [a['peerId']], f'bob sees ann: {b}')
    ann.wait('/rtc', 'call:peer-joined', lambda p: p['peerId'] == b['peerId'])
    offer = {'type': 'offer', 'sdp': 'v=0\r\n'}
    expect(bob.call('/rtc', 'rtc:signal', {'to': a['peerId'], 'kind': 'offer', 'data': offer}) == {'ok': True}, 'signal')
    got = ann.wait('/rtc', 'rtc:signal', lambda s: s['kind'] == 'offer')[0]
    expect(got == {'from': b['peerId'], 'kind': 'offer', 'data': offer}, f'stamped signal: {got}')
    stray = bob.call('/rtc', 'rtc:signal', {'to': 'nobody', 'kind': 'offer', 'data': offer})
    expect(stray['error']['code'] == 'PEER_NOT_FOUND', f'stray signal: {stray}')
    bob.call('/rtc', 'rtc:media', {'audio': False, 'video': True, 'screen': False})
    ann.wait('/rtc', 'rtc:media', lambda m: m['peerId'] == b['peerId'] and not m['audio'])
    bob.call('/rtc', 'call:leave', {'roomId': room})
    ann.wait('/rtc', 'call:peer-left', lambda e: e['peerId'] == b['peerId'])


def main():
    refused_handshake()
    ann, bob = Person('ann').connect(), Person('bob').connect()
    status, room = rest('POST', '/api/rooms', ann.token, {'name': 'python'})
    expect(status == 201, f'room: {status} {room}')
    try:
        chat(ann, bob, room['id'])
        errors(ann)
        signaling(ann, bob, room['id'])
    finally:
        ann.close()
        bob.close()
    print('OK')


if __name__ == '__main__':
    main()
