/**
 * Room ids a socket keeps in `socket.data` (joined, or access checked). Absent until the
 * first one, and replaced rather than grown in place: an array built by `push` reserves
 * 17 slots, one built whole holds exactly its rooms, and a socket is in one or two rooms.
 * `null` is absent too (a session restored through a serialising adapter may carry it).
 */
export type RoomList = readonly string[] | undefined;

export function withRoom(list: RoomList | null, roomId: string): string[] {
  if (!list) return [roomId];
  return list.includes(roomId) ? (list as string[]) : [...list, roomId];
}

export function withoutRoom(list: RoomList | null, roomId: string): string[] | undefined {
  const rest = list?.filter((r) => r !== roomId);
  return rest && rest.length > 0 ? rest : undefined;
}
