import type { Logger } from '../ports/logger.js';

interface Step {
  name: string;
  run: () => Promise<void> | void;
}

/**
 * Ordered shutdown: steps run one by one in the order given to `close` (callers list them
 * from the edge inwards), each timed and logged, all under one deadline. A step that fails
 * or overruns is logged and the next one still runs, so resources are never left open.
 */
export class Closer {
  private readonly steps: Step[] = [];

  add(name: string, run: Step['run']): void {
    this.steps.push({ name, run });
  }

  async closeAll(deadlineMs: number, logger: Logger): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (const step of this.steps) {
      const started = Date.now();
      const remaining = Math.max(1, deadline - started);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(step.run),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${remaining} ms`)), remaining);
          }),
        ]);
        logger.debug('shutdown step done', { step: step.name, ms: Date.now() - started });
      } catch (err) {
        logger.warn('shutdown step failed', { step: step.name, err });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
