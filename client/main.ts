/**
 * The page: a lobby (name and room), then the call and the chat side by side. All the
 * protocol work is in chat.ts and call.ts; this file only draws. Text from the network is
 * always set with textContent, never parsed as HTML.
 */
import type { Message, RoomRole } from 'fault-tolerant-video-chat-server/protocol';
import { Call, type CallOut, type Knock, type Remote } from './call.js';
import { Chat } from './chat.js';
import { setUpSearch } from './search.js';
import { ApiError, Session, readJson, writeJson, type RoomDetails } from './session.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const NAME_KEY = 'vc:name';
/** Rooms this browser created, by name: another tab that types the same name joins the same room. */
const ROOMS_KEY = 'vc:rooms';
/** Why we are back in the lobby (removed from the room, room deleted): shown after the reload. */
const NOTICE_KEY = 'vc:notice';

let invitedRoomId = new URLSearchParams(location.hash.slice(1)).get('room');
$<HTMLInputElement>('name').value = localStorage.getItem(NAME_KEY) ?? '';
const showInvite = (invited: boolean) => {
  $('room-field').hidden = invited;
  $<HTMLInputElement>('room').required = !invited;
  $('invite').hidden = !invited;
};
showInvite(!!invitedRoomId);
const notice = readJson<string>(sessionStorage, NOTICE_KEY);
if (notice) {
  $('lobby-notice').textContent = notice;
  sessionStorage.removeItem(NOTICE_KEY);
}

$('lobby').addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = $<HTMLButtonElement>('join');
  button.disabled = true;
  $('lobby-error').textContent = '';
  try {
    const name = $<HTMLInputElement>('name').value.trim();
    localStorage.setItem(NAME_KEY, name);
    const session = new Session(name);
    const room = await findRoom(session, invitedRoomId, $<HTMLInputElement>('room').value.trim());
    history.replaceState(null, '', `#room=${encodeURIComponent(room.id)}`);
    await enter(session, room);
  } catch (err) {
    $('lobby-error').textContent = describe(err);
    button.disabled = false;
    if (err instanceof ApiError && err.status === 404 && invitedRoomId) {
      invitedRoomId = null; // a stale invite: pick a room by name instead
      showInvite(false);
    }
  }
});

async function findRoom(session: Session, invited: string | null, name: string): Promise<RoomDetails> {
  if (invited) return session.room(invited);
  const known = readJson<Record<string, string>>(localStorage, ROOMS_KEY) ?? {};
  const id = known[name.toLowerCase()];
  if (id) {
    try {
      return await session.room(id);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }
  const room = await session.createRoom(name);
  writeJson(localStorage, ROOMS_KEY, { ...known, [name.toLowerCase()]: room.id });
  return { ...room, role: 'owner', participants: [] }; // its creator owns it
}

async function enter(session: Session, room: RoomDetails): Promise<void> {
  const local = await localMedia();
  $('lobby').hidden = true;
  $('call').hidden = $('chat').hidden = $('copy-link').hidden = false;
  $('room-title').textContent = room.name;
  document.title = `${room.name} · Video chat`;

  me = session.userId;
  let ready = false;
  let unread = 0;
  let readers: ReadonlyMap<string, number> = new Map();
  const visible = () => document.visibilityState === 'visible';
  /** The unread badge (and the tab title): what the join counted plus what came while the tab was hidden. */
  function showUnread(): void {
    $('unread').hidden = unread === 0;
    $('unread').textContent = String(unread);
    document.title = `${unread ? `(${unread}) ` : ''}${room.name} · Video chat`;
  }
  /** Seen: move our read marker (debounced in chat.ts) and clear the badge. */
  function seen(): void {
    if (!visible()) return;
    chat.markRead();
    unread = 0;
    showUnread();
  }
  /** "Seen by …" under my newest message, from the others' read receipts. */
  function showSeen(): void {
    const latest = ready ? chat.myLatest() : undefined;
    for (const node of $('messages').querySelectorAll<HTMLElement>('.seen:not([hidden])')) node.hidden = true;
    if (!latest) return;
    const who = [...readers].filter(([, seq]) => seq >= latest.seq).map(([userId]) => chat.nameOf(userId));
    const node = $('messages').querySelector<HTMLElement>(`li[data-seq="${latest.seq}"] .seen`);
    if (!node || who.length === 0) return;
    node.hidden = false;
    node.textContent = who.every(Boolean) ? `Seen by ${who.join(', ')}` : `Seen by ${who.length}`;
  }

  const chat = new Chat(session, room.id, {
    message: (message, mine) => {
      const fresh = showMessage(message, mine);
      if (!ready) return;
      if (fresh && !mine && !visible()) {
        unread++;
        showUnread();
      }
      seen();
      showSeen();
    },
    unread: (count) => {
      unread = count;
      showUnread();
      seen();
    },
    receipts: (seqs) => {
      readers = seqs;
      showSeen();
    },
    pending: (outbox) => {
      const items = outbox.map((p) => messageItem(session.name, p.text, 'sending…'));
      for (const item of items) item.classList.add('mine', 'pending');
      $('pending').replaceChildren(...items);
      scrollDown(true);
    },
    people: (names) => ($('people').textContent = `· ${names.length} here: ${names.join(', ')}`),
    typing: (names) => ($('typing').textContent = typingLine(names)),
    notice: (text) => flash('chat-notice', text),
    changed: () => showStatus(),
    gone: (why) => (why === 'closed' ? leaveRoom('This room was deleted.', false) : leaveRoom('You were removed from this room.', true)),
  });
  const call = new Call(session, room.id, local, {
    update: (remote) => showTile(remote, isModerator(room.role)),
    remove: (remote) => {
      tiles.get(remote)?.remove();
      tiles.delete(remote);
    },
    notice: (text) => flash('call-notice', text),
    changed: () => showStatus(),
    state: () => showCallState(),
    muted: (kind, by, byName) => {
      showLocal();
      const who = byName ?? chat.nameOf(by) ?? 'A moderator';
      flash('call-notice', `${who} asked you to mute: your ${kind === 'audio' ? 'microphone' : 'camera'} is off now.`);
    },
    knocks: showKnocks,
  });
  setUpSearch(session, chat, (text) => flash('chat-notice', text));
  Object.assign(window, { demo: { chat, call } }); // to poke at from the devtools console
  ready = true;
  document.addEventListener('visibilitychange', seen);

  const localTile = tile(null);
  localTile.classList.add('local');
  localTile.querySelector('.tile-actions')?.remove();
  localTile.querySelector('video')!.muted = true;
  localTile.querySelector('video')!.srcObject = local;
  localTile.querySelector('.name')!.textContent = `${session.name} (you)`;
  function showLocal(): void {
    localTile.dataset.video = call.media.video ? 'on' : 'off';
    localTile.dataset.audio = call.media.audio ? 'on' : 'off';
    localTile.querySelector('.avatar')!.textContent = initials(session.name);
    toggleButton('mic', !call.media.audio, call.media.audio ? 'Mute' : 'Unmute');
    toggleButton('cam', !call.media.video, call.media.video ? 'Stop video' : 'Start video');
  }
  showLocal();
  if (!local) flash('call-notice', 'No camera or microphone here: you can still watch, listen and chat.');
  $('mic').addEventListener('click', () => (call.setMedia('audio', !call.media.audio), showLocal()));
  $('cam').addEventListener('click', () => (call.setMedia('video', !call.media.video), showLocal()));
  $<HTMLButtonElement>('mic').disabled = !local?.getAudioTracks().length;
  $<HTMLButtonElement>('cam').disabled = !local?.getVideoTracks().length;
  const hangUp = () => (call.hangUp(), chat.leave());
  // Closing our connections tells the others at once (their data channel closes).
  addEventListener('pagehide', hangUp);
  $('leave').addEventListener('click', () => {
    hangUp();
    location.reload(); // back to the lobby, invite link kept
  });
  let leaving = false;
  /** We lost the room: back to the lobby (after a reload), saying why. */
  function leaveRoom(text: string, keepInvite: boolean): void {
    if (leaving) return;
    leaving = true;
    hangUp();
    writeJson(sessionStorage, NOTICE_KEY, text);
    if (!keepInvite) history.replaceState(null, '', location.pathname + location.search);
    location.reload();
  }

  // Out of the call (kicked, ended, denied, refused) or waiting in the lobby.
  let joins = 0;
  function showCallState(): void {
    const { state, out } = call;
    document.body.dataset.call = state;
    $('tiles').hidden = state === 'waiting' || state === 'out';
    $('call-state').hidden = state === 'in' || state === 'joining';
    $('call-state').dataset.reason = state === 'out' ? (out?.reason ?? '') : state;
    $('call-state-text').textContent = state === 'waiting' ? 'Waiting for a moderator to let you in…' : out ? outText(out, (userId) => (userId === call.userId ? 'you' : chat.nameOf(userId))) : '';
    $('rejoin').hidden = state !== 'out';
    $('rejoin').textContent = out?.reason === 'kicked' || out?.reason === 'ended' ? 'Join the call again' : 'Try again';
    if (out?.reason === 'room-deleted') leaveRoom('This room was deleted.', false);
    if (out?.reason === 'removed') leaveRoom('You were removed from this room.', true);
    // Back in the call after a reconnect or a rejoin: our role or the settings may have changed.
    if (state === 'in' && joins++ > 0) void refreshRoom();
    showModeration();
  }
  $('rejoin').addEventListener('click', () => call.rejoin());

  // Moderators: the room's settings, the call, the lobby and each remote tile.
  async function refreshRoom(): Promise<void> {
    const fresh = await session.room(room.id).catch(() => null);
    if (!fresh) return;
    room = fresh;
    showModeration();
    for (const remote of call.remotes) showTile(remote, isModerator(room.role));
  }
  function showModeration(): void {
    const moderator = isModerator(room.role);
    // A visitor of a public room becomes a member by joining it (room:join).
    document.body.dataset.role = room.role ?? 'member';
    $('role').hidden = false;
    $('role').textContent = `You: ${room.role ?? 'member'}`;
    $('moderation').hidden = !moderator;
    toggleButton('lock', room.locked, room.locked ? 'Unlock' : 'Lock');
    toggleButton('lobby-toggle', room.lobby, room.lobby ? 'Lobby on' : 'Lobby off');
    $<HTMLButtonElement>('end-call').disabled = !call.joined;
    $<HTMLButtonElement>('mute-all').disabled = !call.joined;
    if (!moderator) showKnocks([]);
  }
  /** After a refused moderation request, say why and check our role (it may have changed). */
  const report = (problem: string | null) => {
    if (!problem) return;
    flash('call-notice', `Not done: ${problem}`);
    void refreshRoom();
  };
  const change = async (button: HTMLButtonElement, changes: { locked?: boolean; lobby?: boolean }) => {
    button.disabled = true;
    try {
      room = { ...room, ...(await session.updateRoom(room.id, changes)) };
    } catch (err) {
      report(describe(err));
    } finally {
      button.disabled = false;
      showModeration();
    }
  };
  $('lock').addEventListener('click', (e) => void change(e.currentTarget as HTMLButtonElement, { locked: !room.locked }));
  $('lobby-toggle').addEventListener('click', (e) => void change(e.currentTarget as HTMLButtonElement, { lobby: !room.lobby }));
  $('end-call').addEventListener('click', async () => report(await call.end()));
  $('mute-all').addEventListener('click', async () => {
    const problem = await call.askMute('audio');
    if (problem) report(problem);
    else flash('call-notice', 'Everyone else was asked to mute.');
  });
  $('tiles').addEventListener('click', async (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('.tile-actions button');
    const remote = [...tiles].find(([, node]) => node.contains(button))?.[0];
    if (!button || !remote) return;
    button.disabled = true;
    report(button.dataset.action === 'kick' ? await call.kick(remote) : await call.askMute('audio', remote));
    if (tiles.has(remote)) showTile(remote, isModerator(room.role));
  });
  function showKnocks(knocks: readonly Knock[]): void {
    $('knocks').hidden = knocks.length === 0;
    $('knock-list').replaceChildren(...knocks.map((knock) => knockItem(knock, async (admit) => report(await call.answer(knock.requestId, admit)))));
  }
  $('copy-link').addEventListener('click', async () => {
    await navigator.clipboard?.writeText(location.href).catch(() => undefined);
    flash('call-notice', `Invite link: ${location.href}`);
  });

  const input = $<HTMLInputElement>('text');
  /** The composer answers a message (reply) or replaces my message's text (edit). */
  let composing: { kind: 'reply' | 'edit'; seq: number } | null = null;
  function compose(kind: 'reply' | 'edit' | null, message?: Message): void {
    composing = kind && message ? { kind, seq: message.seq } : null;
    $('composing').hidden = !composing;
    $('composing').dataset.kind = kind ?? '';
    if (kind === 'reply' && message) $('composing-text').textContent = `Replying to ${message.senderName}: ${excerpt(message)}`;
    if (kind === 'edit' && message) {
      $('composing-text').textContent = 'Editing your message';
      input.value = message.text;
    } else if (kind === null && input.dataset.editing) input.value = '';
    input.dataset.editing = kind === 'edit' ? 'yes' : '';
    input.focus();
  }
  $('composing-cancel').addEventListener('click', () => compose(null));
  input.addEventListener('keydown', (event) => event.key === 'Escape' && compose(null));
  input.addEventListener('input', () => composing?.kind !== 'edit' && chat.typing(input.value.length > 0));
  $('composer').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    if (composing?.kind === 'edit') {
      if (await chat.edit(composing.seq, input.value)) compose(null);
    } else if (chat.send(input.value, composing?.seq)) {
      input.value = '';
      compose(null);
    }
  });
  input.focus();

  // The actions on a message: reply, react (a small fixed set), edit and delete.
  $('messages').addEventListener('click', async (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button');
    const item = button?.closest<HTMLElement>('li.message');
    const message = shown.get(Number(item?.dataset.seq))?.message;
    if (!button || !item || !message) return;
    const picker = item.querySelector<HTMLElement>('.picker')!;
    const reacted = (emoji: string) => message.reactions?.some((r) => r.emoji === emoji && r.userIds.includes(chat.userId)) ?? false;
    switch (button.dataset.action) {
      case 'reply':
        return compose('reply', message);
      case 'edit':
        return compose('edit', message);
      case 'delete':
        if (composing?.seq === message.seq) compose(null);
        return void (await chat.remove(message.seq));
      case 'react':
        picker.hidden = !picker.hidden;
        button.setAttribute('aria-expanded', String(!picker.hidden));
        if (!picker.hidden && !picker.childElementCount) picker.append(...EMOJI.map((emoji) => emojiButton(emoji)));
        return;
      case 'emoji':
      case 'reaction': {
        const emoji = button.dataset.emoji!;
        picker.hidden = true;
        button.disabled = true;
        await chat.react(message.seq, emoji, !reacted(emoji));
        button.disabled = false;
      }
    }
  });

  let everConnected = false;
  function showStatus(): void {
    const up = chat.joined && call.settled;
    everConnected ||= up;
    const state = !navigator.onLine ? 'offline' : up ? 'connected' : everConnected ? 'reconnecting' : 'connecting';
    document.body.dataset.connection = state;
    $('status').textContent = { offline: 'Offline: waiting for the network…', connected: 'Connected', reconnecting: 'Reconnecting…', connecting: 'Connecting…' }[state];
  }
  addEventListener('online', showStatus);
  addEventListener('offline', showStatus);
  showStatus();
  showCallState();
}

const isModerator = (role: RoomRole | null) => role === 'owner' || role === 'moderator';

/** Why we are out of the call, for people; `nameOf` knows who is (or was) in the room. */
function outText(out: CallOut, nameOf: (userId: string) => string | undefined): string {
  const by = (out.by ? nameOf(out.by) : undefined) ?? out.byName ?? 'a moderator';
  switch (out.reason) {
    case 'kicked':
      return `You were removed from the call by ${by}.`;
    case 'ended':
      return by === 'you' ? 'You ended the call.' : `The call was ended by ${by}.`;
    case 'room-deleted':
      return 'The room was deleted.';
    case 'removed':
      return 'You were removed from this room.';
    case 'denied':
      return 'A moderator did not let you in.';
    case 'timeout':
      return 'No moderator let you in: your request timed out.';
    case 'refused':
      return out.code === 'ROOM_LOCKED' ? 'The call is locked: only moderators can join it now.' : `Could not join the call: ${out.message ?? out.code}`;
  }
}

/** A knock in the lobby panel: who, and Admit / Deny (both disabled while the answer is on its way). */
function knockItem(knock: Knock, answer: (admit: boolean) => Promise<void>): HTMLElement {
  const item = ($<HTMLTemplateElement>('knock-template').content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
  item.dataset.requestId = knock.requestId;
  item.querySelector('.name')!.textContent = knock.name;
  const buttons = [...item.querySelectorAll<HTMLButtonElement>('button')];
  for (const button of buttons) {
    button.addEventListener('click', async () => {
      for (const b of buttons) b.disabled = true;
      await answer(button.dataset.action === 'admit');
      for (const b of buttons) b.disabled = false; // still listed only if the answer failed
    });
  }
  return item;
}

/** Camera and microphone if we may; audio only, or nothing, if not (needs https or localhost). */
async function localMedia(): Promise<MediaStream | null> {
  for (const constraints of [{ audio: true, video: { width: 640, height: 360 } }, { audio: true }]) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch {
      /* try with less */
    }
  }
  return null;
}

const tiles = new Map<Remote, HTMLElement>();

function tile(remote: Remote | null): HTMLElement {
  const node = ($<HTMLTemplateElement>('tile-template').content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
  if (remote) tiles.set(remote, node);
  $('tiles').append(node);
  return node;
}

function showTile(remote: Remote, moderator: boolean): void {
  const node = tiles.get(remote) ?? tile(remote);
  const video = node.querySelector('video')!;
  if (video.srcObject !== remote.stream) video.srcObject = remote.stream;
  const state = remote.peerId ? remote.pc.connectionState : 'reconnecting';
  Object.assign(node.dataset, {
    peerId: remote.peerId ?? '',
    state,
    iceRestarts: String(remote.iceRestarts),
    video: remote.media.video ? 'on' : 'off',
    audio: remote.media.audio ? 'on' : 'off',
  });
  node.classList.add('remote');
  node.querySelector('.name')!.textContent = remote.name;
  node.querySelector('.avatar')!.textContent = initials(remote.name);
  node.querySelector('.state')!.textContent = state === 'connected' ? '' : state === 'reconnecting' ? 'reconnecting…' : state;
  node.dataset.userId = remote.userId;
  const actions = node.querySelector<HTMLElement>('.tile-actions')!;
  actions.hidden = !moderator;
  actions.querySelector<HTMLButtonElement>('[data-action="kick"]')!.disabled = !remote.peerId;
  actions.querySelector<HTMLButtonElement>('[data-action="mute"]')!.disabled = !remote.peerId || !remote.media.audio;
}

const EMOJI = ['👍', '❤️', '😂', '🎉', '👀'];
/** My user id: my reactions are highlighted. */
let me = '';
/** What the page shows, by seq: quotes of replies come from here. */
const shown = new Map<number, { message: Message; mine: boolean; item: HTMLElement }>();

/** Shows a message, or redraws it when it changed (same seq); true when it is new to the page. */
function showMessage(message: Message, mine: boolean): boolean {
  const old = shown.get(message.seq);
  const item = old?.item ?? messageItem(message.senderName, '', new Date(message.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
  shown.set(message.seq, { message, mine, item });
  item.dataset.seq = String(message.seq);
  item.classList.toggle('mine', mine);
  drawMessage(item, message);
  // Replies quoting it show its new state.
  for (const reply of shown.values()) if (reply.message.replyTo === message.seq) drawQuote(reply.item, reply.message);
  if (old) return false;
  // Keep seq order even when a page of history lands after a live message.
  const list = $('messages');
  const after = [...list.children].find((li) => Number((li as HTMLElement).dataset.seq) > message.seq);
  const nearBottom = isNearBottom();
  list.insertBefore(item, after ?? null);
  scrollDown(nearBottom || mine);
  return true;
}

/** Text, "(edited)", "message deleted", the quote and the reactions: all as text, never HTML. */
function drawMessage(item: HTMLElement, message: Message): void {
  const deleted = !!message.deletedAt;
  item.classList.toggle('deleted', deleted);
  item.dataset.rev = String(message.rev ?? 0);
  item.querySelector('.text')!.textContent = deleted ? 'message deleted' : message.text;
  item.querySelector<HTMLElement>('.edited')!.hidden = !message.editedAt || deleted;
  drawQuote(item, message);
  item.querySelector('.reactions')!.replaceChildren(
    ...(deleted ? [] : (message.reactions ?? [])).map((r) => {
      const chip = emojiButton(r.emoji, 'reaction');
      chip.textContent = `${r.emoji} ${r.count}`;
      chip.setAttribute('aria-pressed', String(r.userIds.includes(me)));
      chip.title = `${r.count} reacted with ${r.emoji}`;
      return chip;
    }),
  );
  if (deleted) item.querySelector<HTMLElement>('.picker')!.hidden = true;
}

function drawQuote(item: HTMLElement, message: Message): void {
  const quote = item.querySelector<HTMLElement>('.quote')!;
  quote.hidden = !message.replyTo || !!message.deletedAt;
  if (!message.replyTo) return;
  const original = shown.get(message.replyTo)?.message;
  quote.dataset.replyTo = String(message.replyTo);
  quote.textContent = original ? `${original.senderName}: ${excerpt(original)}` : 'an earlier message';
}

function excerpt(message: Message): string {
  if (message.deletedAt) return 'message deleted';
  const chars = [...message.text];
  return chars.length > 80 ? `${chars.slice(0, 80).join('')}…` : message.text;
}

function emojiButton(emoji: string, action = 'emoji'): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = action;
  button.dataset.action = action;
  button.dataset.emoji = emoji;
  button.dataset.testid = action;
  button.textContent = emoji;
  return button;
}

function messageItem(from: string, text: string, when: string): HTMLElement {
  const item = ($<HTMLTemplateElement>('message-template').content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
  item.querySelector('.from')!.textContent = from;
  item.querySelector('time')!.textContent = when;
  item.querySelector('.text')!.textContent = text;
  return item;
}

const isNearBottom = () => {
  const s = $('scroller');
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
};
const scrollDown = (yes: boolean) => yes && $('scroller').scrollTo({ top: $('scroller').scrollHeight });

function typingLine(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`;
}

function toggleButton(id: string, pressed: boolean, label: string): void {
  $(id).setAttribute('aria-pressed', String(pressed));
  $(id).querySelector('span')!.textContent = label;
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => [...word][0]!.toUpperCase())
    .join('');
}

const flashTimers = new Map<string, ReturnType<typeof setTimeout>>();
function flash(id: string, text: string): void {
  $(id).textContent = text;
  clearTimeout(flashTimers.get(id));
  flashTimers.set(id, setTimeout(() => ($(id).textContent = ''), 8000));
}

function describe(err: unknown): string {
  if (err instanceof ApiError) return err.status === 404 ? 'That room does not exist (any more).' : err.message;
  return 'The server cannot be reached. Is it running?';
}
