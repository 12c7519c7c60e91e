/**
 * Search in the room (`GET /api/messages/search`): the box above the chat lists what the
 * server found, in its order (best match first). The server decides what a query may be and
 * what matches (a deleted message is never found, an edited one only by its current text), so
 * the page checks nothing itself and shows the server's `message` when it refuses. A click on a
 * result shows the message in the chat, paging back through the history when it is older than
 * what the page holds.
 */
import type { Message } from 'fault-tolerant-video-chat-server/protocol';
import type { Chat } from './chat.js';
import { ApiError, type SearchPage, type Session } from './session.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

type State = 'searching' | 'results' | 'empty' | 'error';

/** Wires the search form and its results panel to `chat`'s room; `notice` says what went wrong with a click. */
export function setUpSearch(session: Session, chat: Chat, notice: (text: string) => void): void {
  const input = $<HTMLInputElement>('search-text');
  /** Answers to an older query (typed over while it was on its way) are dropped. */
  let asked = 0;

  $('search').addEventListener('submit', async (event) => {
    event.preventDefault();
    const q = input.value;
    const mine = ++asked;
    show('searching', 'Searching…', []);
    let page: SearchPage;
    try {
      page = await session.search(chat.roomId, q);
    } catch (err) {
      if (mine === asked) show('error', `Cannot search: ${err instanceof ApiError ? err.message : 'the server cannot be reached.'}`, []);
      return;
    }
    if (mine !== asked) return;
    const n = page.messages.length;
    if (n === 0) return show('empty', `No message matches “${q.trim()}”.`, []);
    const counted = page.hasMore ? `The best ${n} matches; add a word to narrow them down.` : `${n} ${n === 1 ? 'message matches' : 'messages match'}.`;
    show('results', counted, page.messages);
  });

  const close = () => {
    asked++;
    $('search-results').hidden = true;
    $('search-list').replaceChildren();
    highlight(null);
  };
  $('search-close').addEventListener('click', close);
  input.addEventListener('keydown', (event) => event.key === 'Escape' && close());

  $('search-list').addEventListener('click', async (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button.result');
    if (!button) return;
    const seq = Number(button.dataset.seq);
    button.disabled = true;
    const held = chat.get(seq) !== undefined || (await chat.loadBack(seq));
    button.disabled = false;
    const item = $('messages').querySelector<HTMLElement>(`li[data-seq="${seq}"]`);
    if (!held || !item) return notice('That message is too far back to show in the chat; its text is in the search results.');
    highlight(item);
    item.scrollIntoView({ block: 'center' });
  });

  function show(state: State, status: string, messages: Message[]): void {
    $('search-results').hidden = false;
    $('search-results').dataset.state = state;
    $('search-status').textContent = status;
    $('search-list').replaceChildren(...messages.map(resultItem));
  }
}

/** The message the last click went to; one at a time. */
function highlight(item: HTMLElement | null): void {
  for (const old of $('messages').querySelectorAll('li.found')) old.classList.remove('found');
  item?.classList.add('found');
}

/** A result: sender, date and time, and the text, as text. */
function resultItem(message: Message): HTMLElement {
  const item = ($<HTMLTemplateElement>('result-template').content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
  const button = item.querySelector<HTMLButtonElement>('button')!;
  button.dataset.seq = String(message.seq);
  item.querySelector('.from')!.textContent = message.senderName;
  const time = item.querySelector('time')!;
  time.dateTime = message.createdAt;
  time.textContent = new Date(message.createdAt).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
  item.querySelector<HTMLElement>('.edited')!.hidden = !message.editedAt;
  item.querySelector('.text')!.textContent = message.text;
  return item;
}
