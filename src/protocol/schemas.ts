import { z } from 'zod';
import { emojiProblem, MAX_EMOJI_BYTES, textProblem } from './text-rules.js';

/**
 * zod schemas for every inbound payload, REST and Socket.IO alike. Objects are strict:
 * unknown keys are refused, never silently applied.
 */

export interface SchemaLimits {
  maxMessageLength: number;
  maxCallParticipants: number;
}

export const DEFAULT_LIMITS: SchemaLimits = { maxMessageLength: 4000, maxCallParticipants: 8 };

/** Largest SDP we relay; real offers with many m-lines stay well under it. */
export const MAX_SDP_BYTES = 32 * 1024;
/** Largest ICE candidate string; real candidates are ~100–300 bytes. */
export const MAX_CANDIDATE_BYTES = 2048;

export const IdSchema = z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters');
export const SeqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const HistoryLimitSchema = z.number().int().min(1).max(100);

// The text rules run in refinements, which JSON Schema cannot express: their description
// carries them into the API documents instead.
const TEXT_RULES = 'not empty or only whitespace, valid Unicode (no lone surrogates), no control characters';

const nameText = (max: number) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = textProblem(value, max);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      else if (/[\r\n\t]/.test(value)) ctx.addIssue({ code: 'custom', message: 'must be a single line' });
    })
    .describe(`1–${max} characters (code points), a single line; ${TEXT_RULES}`);

export const NameSchema = nameText(64);

export const EmojiSchema = z
  .string()
  .max(64)
  .superRefine((value, ctx) => {
    const problem = emojiProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe(`one emoji: one grapheme cluster that is pictographic (or a flag), at most ${MAX_EMOJI_BYTES} bytes of UTF-8`);
/** A message's place in its room; 0 never names a message. */
export const MessageSeqSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export function buildSchemas(limits: SchemaLimits = DEFAULT_LIMITS) {
  const messageText = z
    .string()
    .superRefine((value, ctx) => {
      const problem = textProblem(value, limits.maxMessageLength);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe(`1–${limits.maxMessageLength} characters (code points, MAX_MESSAGE_LENGTH); tab and newline allowed; ${TEXT_RULES}`);

  const guestAuth = z.strictObject({ name: NameSchema });
  const createRoom = z.strictObject({
    name: nameText(100),
    isPrivate: z.boolean().optional(),
    maxParticipants: z.number().int().min(2).max(limits.maxCallParticipants).optional(),
    locked: z.boolean().optional(),
    lobby: z.boolean().optional(),
  });
  const addMember = z.strictObject({ userId: IdSchema });
  const updateRoom = z
    .strictObject({
      name: nameText(100).optional(),
      isPrivate: z.boolean().optional(),
      maxParticipants: z.number().int().min(2).max(limits.maxCallParticipants).optional(),
      locked: z.boolean().optional(),
      lobby: z.boolean().optional(),
    })
    .refine((patch) => Object.keys(patch).length > 0, 'give at least one field to change');
  const setRole = z.strictObject({ role: z.enum(['moderator', 'member']) });
  const postMessage = z.strictObject({
    roomId: IdSchema,
    text: messageText,
    clientMsgId: IdSchema.optional(),
    replyTo: MessageSeqSchema.optional().describe('the seq of the message (same room) this one answers'),
  });
  // Operator API (ADMIN_TOKEN): a system message to a room; disconnect (and revoke) a user.
  const adminMessage = z.strictObject({ text: messageText });
  const adminDisconnect = z.strictObject({ revoke: z.boolean().optional().describe("also refuse the user's tokens issued until now") });

  const roomJoin = z.strictObject({
    roomId: IdSchema,
    lastSeq: SeqSchema.optional(),
    lastRev: SeqSchema.optional().describe('the room change counter you have seen: the answer then carries `updates`, older messages changed since'),
  });
  const roomLeave = z.strictObject({ roomId: IdSchema });
  const replyTo = MessageSeqSchema.optional().describe('the seq of the message (same room) this one answers');
  const chatSend = z.strictObject({ roomId: IdSchema, clientMsgId: IdSchema, text: messageText, replyTo });
  const chatEdit = z.strictObject({ roomId: IdSchema, seq: MessageSeqSchema, text: messageText });
  const chatDelete = z.strictObject({ roomId: IdSchema, seq: MessageSeqSchema });
  const chatReact = z.strictObject({ roomId: IdSchema, seq: MessageSeqSchema, emoji: EmojiSchema, on: z.boolean().describe('true: add my reaction; false: take it back') });
  const editMessage = z.strictObject({ text: messageText });
  const chatHistory = z.strictObject({
    roomId: IdSchema,
    before: SeqSchema.optional(),
    after: SeqSchema.optional(),
    limit: HistoryLimitSchema.optional(),
  });
  const chatTyping = z.strictObject({ roomId: IdSchema, typing: z.boolean() });
  const chatAck = z.strictObject({ roomId: IdSchema, seq: SeqSchema });
  const chatRead = z.strictObject({ roomId: IdSchema, seq: SeqSchema.describe("the newest message read; at most the room's lastSeq") });

  const callJoin = z.strictObject({ roomId: IdSchema });
  const callLeave = z.strictObject({ roomId: IdSchema });
  const callKick = z.strictObject({ roomId: IdSchema, peerId: IdSchema });
  const callMute = z.strictObject({ roomId: IdSchema, kind: z.enum(['audio', 'video']), peerId: IdSchema.optional() });
  const callEnd = z.strictObject({ roomId: IdSchema });
  const callAdmit = z.strictObject({ roomId: IdSchema, requestId: IdSchema, admit: z.boolean() });
  const sdp = z.strictObject({
    type: z.enum(['offer', 'answer', 'pranswer', 'rollback']),
    sdp: z.string().max(MAX_SDP_BYTES, `sdp must be at most ${MAX_SDP_BYTES} bytes`).optional(),
  });
  const candidate = z.strictObject({
    candidate: z.string().max(MAX_CANDIDATE_BYTES, `candidate must be at most ${MAX_CANDIDATE_BYTES} bytes`),
    sdpMid: z.string().max(64).nullable().optional(),
    sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
    usernameFragment: z.string().max(256).nullable().optional(),
  });
  const rtcSignal = z.discriminatedUnion('kind', [
    z.strictObject({ to: IdSchema, kind: z.literal('offer'), data: sdp }),
    z.strictObject({ to: IdSchema, kind: z.literal('answer'), data: sdp }),
    z.strictObject({ to: IdSchema, kind: z.literal('ice-candidate'), data: candidate.nullable() }),
    z.strictObject({ to: IdSchema, kind: z.literal('ice-restart'), data: z.strictObject({}).optional() }),
  ]);
  const rtcMedia = z.strictObject({ audio: z.boolean(), video: z.boolean(), screen: z.boolean() });

  return {
    guestAuth,
    createRoom,
    addMember,
    updateRoom,
    setRole,
    postMessage,
    adminMessage,
    adminDisconnect,
    roomJoin,
    roomLeave,
    chatSend,
    chatEdit,
    chatDelete,
    chatReact,
    editMessage,
    chatHistory,
    chatTyping,
    chatAck,
    chatRead,
    callJoin,
    callLeave,
    callKick,
    callMute,
    callEnd,
    callAdmit,
    rtcSignal,
    rtcMedia,
  };
}

export type Schemas = ReturnType<typeof buildSchemas>;
export type Payload<K extends keyof Schemas> = z.infer<Schemas[K]>;
