/** A queue entry that failed QUEUE_MAX_ATTEMPTS times on a working store. */
export interface DeadLetter {
  id: string;
  reason: string;
  attempts: number;
  firstSeenAt: string;
  /** The queue entry as it was (fields of the stream entry). */
  entry: unknown;
}

/** The operator's view of dead letters: list, put back in the queue, or drop. */
export interface DeadLetterQueue {
  list(limit: number): Promise<DeadLetter[]>;
  /** False when no dead letter has this id. */
  retry(id: string): Promise<boolean>;
  drop(id: string): Promise<boolean>;
}

/** Embedded mode has no queue (the SQLite commit is the store write), so nothing dies. */
export const noDeadLetters: DeadLetterQueue = {
  list: async () => [],
  retry: async () => false,
  drop: async () => false,
};
