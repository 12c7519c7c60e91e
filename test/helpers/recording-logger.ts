import type { Logger } from '../../src/ports/logger.js';

export interface LogLine {
  level: string;
  message: string;
  meta: Record<string, unknown>;
}

/** A Logger that keeps what it is told, for tests that check what an operator would read. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, meta: Record<string, unknown> = {}) => void lines.push({ level, message, meta });
  const logger = {
    lines,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    http: at('http'),
    debug: at('debug'),
    child: () => logger,
  };
  return logger;
}
