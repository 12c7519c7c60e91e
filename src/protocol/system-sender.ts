/**
 * The sender of operator messages (`POST /api/admin/rooms/:id/messages`): a message whose
 * `senderId` is this came from the operators, not from a user. No token may carry this
 * subject, so no user can speak as it.
 */
export const SYSTEM_SENDER = { id: 'system', name: 'system' } as const;
