/**
 * Progress on the terminal: a bar with ETA and live values while work runs (on a TTY), and plain log lines
 * otherwise (CI logs, pipes), so long work is never silent and logs are never flooded with redraws.
 */
import cliProgress from 'cli-progress';

export interface ProgressBar {
  start(total: number, label: string): void;
  update(done: number, values?: Record<string, string>): void;
  stop(): void;
  /** Prints a line above the bar (or plainly). */
  log(line: string): void;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return plainProgress(stream);
  let bar: cliProgress.SingleBar | undefined;
  let payloadKeys: string[] = [];
  return {
    start(total, label) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: (options, params, payload: Record<string, string>) => {
            const width = options.barsize ?? 30;
            const filled = Math.round(params.progress * width);
            const extra = payloadKeys.map((k) => `${k} ${payload[k] ?? ''}`).join('  ');
            const eta = Number.isFinite(params.eta) && params.value > 0 ? formatSeconds(params.eta) : '--';
            return `${payload.label} ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${params.value}/${params.total}  ${extra}  ETA ${eta}`;
          },
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      payloadKeys = [];
      bar.start(total, 0, { label });
    },
    update(done, values = {}) {
      for (const k of Object.keys(values)) if (!payloadKeys.includes(k)) payloadKeys.push(k);
      bar?.update(done, values);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
    log(line) {
      if (bar) {
        // cli-progress has no "log above"; clear the line, print, and let the next update redraw.
        stream.write(`\r\x1b[2K${line}\n`);
      } else stream.write(`${line}\n`);
    },
  };
}

function plainProgress(stream: NodeJS.WriteStream): ProgressBar {
  let total = 0;
  let label = '';
  let started = 0;
  let lastLine = 0;
  return {
    start(t, l) {
      total = t;
      label = l;
      started = lastLine = performance.now();
    },
    update(done, values = {}) {
      // Logs get a line at most every 10 s of work, so short steps (an epoch with its own line) print nothing.
      const now = performance.now();
      if (now - lastLine < 10_000 || done >= total) return;
      lastLine = now;
      const eta = ((now - started) / 1000 / done) * (total - done);
      const extra = Object.entries(values).map(([k, v]) => `${k} ${v}`).join('  ');
      stream.write(`${label} ${done}/${total}  ${extra}  ETA ${formatSeconds(eta)}\n`);
    },
    stop() {},
    log(line) {
      stream.write(`${line}\n`);
    },
  };
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--';
  // Rounded once, before splitting into units, so that 119.6 s reads 2m00s and not 1m60s.
  const whole = Math.round(s);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  const minutes = Math.round(s / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
