/**
 * What a change to a room means for the sockets online in it, on every node. Each method
 * resolves once this node has applied it and the other nodes have been told.
 */
export interface RoomControl {
  /** The room is gone: /chat sockets get `room:closed`, /rtc ones `call:ended` (room-deleted); nothing of it stays in memory. */
  roomClosed(roomId: string): Promise<void>;
  /** The user is no longer a member: their sockets leave the room and its call (`room:removed`). */
  userRemoved(roomId: string, userId: string): Promise<void>;
  /** The room became private: every socket whose user is not a member is removed. */
  accessNarrowed(roomId: string): Promise<void>;
}
