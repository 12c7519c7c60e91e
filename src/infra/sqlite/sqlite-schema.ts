import type Database from 'better-sqlite3';

/**
 * Schema of the embedded database. `user_version` tracks migrations so that a data
 * directory from an older build upgrades in place.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE rooms (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     is_private INTEGER NOT NULL,
     max_participants INTEGER NOT NULL,
     created_by TEXT NOT NULL,
     created_at TEXT NOT NULL,
     last_seq INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE room_members (
     room_id TEXT NOT NULL REFERENCES rooms(id),
     user_id TEXT NOT NULL,
     added_at TEXT NOT NULL,
     PRIMARY KEY (room_id, user_id)
   ) WITHOUT ROWID;
   CREATE TABLE messages (
     room_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     id TEXT NOT NULL UNIQUE,
     sender_id TEXT NOT NULL,
     sender_name TEXT NOT NULL,
     text TEXT NOT NULL,
     client_msg_id TEXT,
     created_at TEXT NOT NULL,
     PRIMARY KEY (room_id, seq)
   );
   CREATE UNIQUE INDEX messages_client_msg_id ON messages (room_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
   CREATE TABLE member_cursors (
     room_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     PRIMARY KEY (room_id, user_id)
   ) WITHOUT ROWID;`,
  // v2: messages without UNIQUE(id). Ids are random UUIDs made once per message, so the
  // index guarded nothing the primary key does not, and each insert into it dirtied a
  // random page: measured here, it was a third of the cost of a stored message.
  `CREATE TABLE messages_v2 (
     room_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     id TEXT NOT NULL,
     sender_id TEXT NOT NULL,
     sender_name TEXT NOT NULL,
     text TEXT NOT NULL,
     client_msg_id TEXT,
     created_at TEXT NOT NULL,
     PRIMARY KEY (room_id, seq)
   );
   INSERT INTO messages_v2 (room_id, seq, id, sender_id, sender_name, text, client_msg_id, created_at)
     SELECT room_id, seq, id, sender_id, sender_name, text, client_msg_id, created_at FROM messages;
   DROP TABLE messages;
   ALTER TABLE messages_v2 RENAME TO messages;
   CREATE UNIQUE INDEX messages_client_msg_id ON messages (room_id, client_msg_id) WHERE client_msg_id IS NOT NULL;`,
  // v3: rooms their owners run. Roles and bans live on the membership row (a ban keeps the
  // row, so it holds in a public room too); the creator of an existing room becomes its owner.
  `ALTER TABLE rooms ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rooms ADD COLUMN lobby INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE room_members ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
   ALTER TABLE room_members ADD COLUMN name TEXT;
   ALTER TABLE room_members ADD COLUMN banned INTEGER NOT NULL DEFAULT 0;
   UPDATE room_members SET role = 'owner'
     WHERE user_id = (SELECT created_by FROM rooms WHERE rooms.id = room_members.room_id);
   CREATE INDEX room_members_by_user ON room_members (user_id, room_id);`,
  // v4: read markers (what each member has read), apart from the delivery cursors. IF NOT
  // EXISTS: it stays right whichever place among other branches' migrations it ends up in.
  `CREATE TABLE IF NOT EXISTS read_markers (
     room_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     PRIMARY KEY (room_id, user_id)
   ) WITHOUT ROWID;`,
  // v5: edits, deletes, reactions and replies. A change takes the room's next last_rev and
  // stamps it on the message (rev): the partial index holds changed messages only, so a plain
  // insert (rev 0) never touches it. REST addresses messages by id: ids are time-ordered
  // (UUIDv7) from this release on, so the index on id grows at its end like the primary key
  // instead of dirtying a random page per insert (the cost that dropped it in v2).
  `ALTER TABLE rooms ADD COLUMN last_rev INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN reply_to INTEGER;
   ALTER TABLE messages ADD COLUMN edited_at TEXT;
   ALTER TABLE messages ADD COLUMN deleted_at TEXT;
   ALTER TABLE messages ADD COLUMN reactions TEXT;
   ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX messages_by_rev ON messages (room_id, rev) WHERE rev > 0;
   CREATE INDEX messages_by_id ON messages (id);`,
  // v6: message search, indexed when a room is searched, not when a message is sent. A
  // contentless FTS5 index (the text is not stored twice) of each message's words as
  // search_words() gives them (registered on every connection by openDatabase), keyed by the
  // message's rowid; the room is a column too (its id in hex, one token), so a search
  // intersects the room's entries with the words' inside FTS5. search_progress says how far
  // each room is indexed: every message of the room with seq <= its seq is in the index with
  // its current text. A search first moves its room's progress up to the newest message
  // (sqlite-search-index.ts, on the writer thread), so a plain send does no search work:
  // indexing on every send cost 18% more CPU per delivered message even in batches, and a
  // mere trigger on insert (even one whose WHEN is false) 2-3 us per message. An append takes
  // the room's next seq, above any progress; only the queue's inserts (cluster mode stores
  // out of seq order) can land below it, and WriteTransactions.insertAssigned indexes those
  // at once, in the insert's transaction. An edit re-indexes, a delete (text '')
  // leaves nothing, a removed row takes its entry along. The tables start empty: the first
  // search of a room indexes what it already holds. remove_diacritics 0: "café" is not
  // "cafe", as in MongoDB; the categories match the shared word rule, so FTS5 splits only on
  // spaces. The rowid key holds as long as no VACUUM renumbers messages (no code here runs
  // one); search joins back on it and filters by room, so a stale entry can miss, never leak.
  `CREATE VIRTUAL TABLE message_search USING fts5(
     room, words, content = '', contentless_delete = 1,
     tokenize = "unicode61 remove_diacritics 0 categories 'L* N* M* Co'"
   );
   CREATE TABLE search_progress (room_id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TRIGGER message_search_edit AFTER UPDATE OF text ON messages WHEN old.text IS NOT new.text BEGIN
     DELETE FROM message_search WHERE rowid = old.rowid;
     INSERT INTO message_search (rowid, room, words)
       SELECT new.rowid, hex(new.room_id), search_words(new.text)
       WHERE new.text <> '' AND new.seq <= (SELECT seq FROM search_progress WHERE room_id = new.room_id);
   END;
   CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
     DELETE FROM message_search WHERE rowid = old.rowid;
   END;`,
  // v7: messages name their room by a small integer (rooms.msg_key), not its 36-character id.
  // Each message lands in two indexes keyed by room (the primary key and the dedupe index),
  // on a page of its own when the messages of a commit belong to different rooms; with the
  // short key their entries are a third of the size, so fewer pages split and fewer are
  // written per commit (bench/sqlite-append.ts: about a fifth less CPU per stored message).
  // A key is max + 1 when its room is made; a room's messages go with it, so a key reused
  // after the newest room is deleted names nothing older. Row ids are kept: the search index
  // is keyed by them. A message whose room no longer exists (none should) is not carried
  // over, nor its search entry (a later message could take its row id).
  // The search index keeps the room's id in hex, as v6 wrote it; statements and triggers that
  // start from a room id look its key up in rooms (one primary-key read per statement). A
  // trigger gives every new room its key, also one made by a process of an older release
  // still running on the file (which does not know the column): without a key, a room could
  // never hold a message.
  `ALTER TABLE rooms ADD COLUMN msg_key INTEGER;
   UPDATE rooms SET msg_key = rowid;
   CREATE UNIQUE INDEX rooms_by_msg_key ON rooms (msg_key);
   CREATE TRIGGER rooms_msg_key AFTER INSERT ON rooms WHEN new.msg_key IS NULL BEGIN
     UPDATE rooms SET msg_key = (SELECT coalesce(max(msg_key), 0) + 1 FROM rooms) WHERE id = new.id;
   END;
   DELETE FROM message_search WHERE rowid IN (SELECT rowid FROM messages WHERE room_id NOT IN (SELECT id FROM rooms));
   CREATE TABLE messages_v7 (
     room_key INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     id TEXT NOT NULL,
     sender_id TEXT NOT NULL,
     sender_name TEXT NOT NULL,
     text TEXT NOT NULL,
     client_msg_id TEXT,
     created_at TEXT NOT NULL,
     reply_to INTEGER,
     edited_at TEXT,
     deleted_at TEXT,
     reactions TEXT,
     rev INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (room_key, seq)
   );
   INSERT INTO messages_v7 (rowid, room_key, seq, id, sender_id, sender_name, text, client_msg_id, created_at, reply_to, edited_at, deleted_at, reactions, rev)
     SELECT m.rowid, r.msg_key, m.seq, m.id, m.sender_id, m.sender_name, m.text, m.client_msg_id, m.created_at, m.reply_to, m.edited_at, m.deleted_at, m.reactions, m.rev
     FROM messages m JOIN rooms r ON r.id = m.room_id;
   DROP TABLE messages;
   ALTER TABLE messages_v7 RENAME TO messages;
   CREATE UNIQUE INDEX messages_client_msg_id ON messages (room_key, client_msg_id) WHERE client_msg_id IS NOT NULL;
   CREATE INDEX messages_by_rev ON messages (room_key, rev) WHERE rev > 0;
   CREATE INDEX messages_by_id ON messages (id);
   CREATE TRIGGER message_search_edit AFTER UPDATE OF text ON messages WHEN old.text IS NOT new.text BEGIN
     DELETE FROM message_search WHERE rowid = old.rowid;
     INSERT INTO message_search (rowid, room, words)
       SELECT new.rowid, hex(r.id), search_words(new.text) FROM rooms r
       WHERE r.msg_key = new.room_key AND new.text <> ''
         AND new.seq <= (SELECT seq FROM search_progress WHERE room_id = r.id);
   END;
   CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
     DELETE FROM message_search WHERE rowid = old.rowid;
   END;`,
];

/** How long a process waits for another's migration (or any write) before it gives up starting. */
const MIGRATION_WAIT_MS = 120_000;

/** Brings the schema up to `target` (the newest unless a test wants an older one). */
export function migrate(db: Database.Database, target = MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current >= target) return;
  // Another process sharing the file may be running this very migration, and rebuilding the
  // messages table (v7) takes seconds on a large file, far past the busy timeout of ordinary
  // writes: wait for it, then find nothing left to do, instead of failing to start.
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${Math.max(busyTimeout, MIGRATION_WAIT_MS)}`);
  try {
    // IMMEDIATE: two processes starting together must not both run the same migration.
    db.transaction(() => {
      const version = db.pragma('user_version', { simple: true }) as number;
      for (let v = version; v < target; v++) db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${Math.max(version, target)}`);
    }).immediate();
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}
