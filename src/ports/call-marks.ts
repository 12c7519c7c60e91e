/** A user who dropped out of a call and has until `dueAt` to come back before they count as gone. */
export interface AwayUser {
  roomId: string;
  userId: string;
  name: string;
}

/**
 * What the call webhooks need to say each thing once across the cluster, in order: which call
 * runs in a room (started once, ended once), who takes part in it (a user, whatever number of
 * tabs, entered once and exited once), and who dropped out and may still come back. Every
 * deciding step is one atomic take, so that of two nodes (or a return and a sweep) one wins.
 */
export interface CallMarks {
  /** Starts the room's call unless one is running: the new call's id, or null. */
  startCall(roomId: string): Promise<string | null>;
  /** Ends the room's call: its id, or null when none was running (ended already). */
  endCall(roomId: string): Promise<string | null>;
  /** The user takes part: a new participation id, or null when they already did. */
  enter(roomId: string, userId: string): Promise<string | null>;
  /** The user's participation id, or null when they take no part. */
  participation(roomId: string, userId: string): Promise<string | null>;
  /** Ends the user's participation; answers how many participants the room's call has left. */
  exit(roomId: string, userId: string): Promise<number>;
  markAway(user: AwayUser, dueAt: number): Promise<void>;
  /** Takes the user's away mark: true when they were away (so they came back in time). */
  comeBack(roomId: string, userId: string): Promise<boolean>;
  /** Takes up to `limit` away marks due by `now`: those users are gone. */
  takeDue(now: number, limit: number): Promise<AwayUser[]>;
}
