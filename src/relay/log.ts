/** Structured logs: one JSON object per line, `{ time, level, event, ...fields }`. */

/** Severity of a log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where the relay writes its log lines. */
export type RelayLogger = (level: LogLevel, event: string, fields?: Record<string, unknown>) => void;

/** A logger writing JSON lines to `write` (stderr by default), skipping levels below `minLevel`. */
export function jsonLogger(write: (line: string) => void = (line) => void process.stderr.write(line), minLevel: LogLevel = 'info'): RelayLogger {
  const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  return (level, event, fields = {}) => {
    if (order[level] < order[minLevel]) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`);
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: RelayLogger = () => undefined;
