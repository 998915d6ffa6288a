import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number, label: string): void;
  update(value: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr when a person is watching (a TTY); silent otherwise, so scripts and
 * pipes get clean output.
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { start() {}, update() {}, stop() {} };
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(total, label) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        { stream, format: `${label.padEnd(10)} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(total, 1), 0);
    },
    update(value) {
      bar?.update(value);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
