import type { Logger } from '../../src/ports/logger.js';

/** A Logger that drops everything: for parts built by hand in a test, outside an app. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, http() {}, debug() {}, child: () => silentLogger };
