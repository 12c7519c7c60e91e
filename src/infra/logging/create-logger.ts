import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import type { Logger } from '../../ports/logger.js';

export interface LoggerOptions {
  level: 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silent';
  /** JSON lines (production) or readable colored lines (development). */
  json: boolean;
  /** Directory for `server.log`; null for console only. */
  dir: string | null;
  defaultMeta?: Record<string, unknown>;
}

/** Keys whose values never reach a log line, wherever they appear in the metadata. */
const SECRET_KEYS = /^(authorization|token|password|secret|jwt|credential|text|body|cookie)$/i;

const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key)) info[key] = '[redacted]';
  }
  // Errors passed as metadata keep their stack (winston drops non-enumerable fields).
  for (const key of ['err', 'error']) {
    const value = info[key];
    if (value instanceof Error) info[key] = { name: value.name, message: value.message, stack: value.stack };
  }
  return info;
});

/** Builds a winston logger writing to the console and, when `dir` is set, to a file. */
export function createLogger(options: LoggerOptions): Logger {
  const base = winston.format.combine(redact(), winston.format.timestamp(), winston.format.errors({ stack: true }));
  const readable = winston.format.combine(
    base,
    winston.format.colorize(),
    winston.format.printf(({ timestamp, level, message, ...meta }) => {
      const rest = Object.keys(meta).length ? ' ' + JSON.stringify(meta) : '';
      return `${String(timestamp)} ${level} ${String(message)}${rest}`;
    }),
  );
  const json = winston.format.combine(base, winston.format.json());
  const transports: winston.transport[] = [
    new winston.transports.Console({ format: options.json ? json : readable, stderrLevels: ['error', 'warn'] }),
  ];
  if (options.dir) {
    mkdirSync(options.dir, { recursive: true });
    transports.push(
      new winston.transports.File({
        filename: join(options.dir, 'server.log'),
        format: json,
        maxsize: 50 * 1024 * 1024,
        maxFiles: 5,
        tailable: true,
      }),
    );
  }
  const logger = winston.createLogger({
    level: options.level === 'silent' ? 'error' : options.level,
    silent: options.level === 'silent',
    defaultMeta: options.defaultMeta,
    transports,
  });
  return logger as unknown as Logger;
}
