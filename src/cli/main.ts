#!/usr/bin/env node
/**
 * The `sts` entry point: reruns itself on jemalloc when that helps (see allocator.ts), else runs the program. Nothing
 * heavy is imported before that choice, so the first process stays small.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { jemallocEnv } from '../engine/allocator.js';

/** The launcher's PID, handed to the process it reruns. */
const PARENT_PID = 'STS_LAUNCHER_PID';

const env = jemallocEnv(process.env);
if (env) {
  // The child gets a process group of its own, so that a signal reaches it once, passed on from here, whether it
  // came from the terminal (Ctrl-C goes to the foreground group: this process) or was sent to this process's pid.
  // Its first SIGINT stops the work cleanly, a second one at once, as when `sts` runs without the rerun.
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...env, [PARENT_PID]: String(process.pid) },
    detached: true,
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    console.error(`sts: error: could not start ${process.execPath}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
  });
} else {
  // Rerun by the launcher above: if the launcher dies without passing a signal on (SIGKILL, a lost terminal
  // session), this process is orphaned; it notices within a second and stops as on SIGTERM, so that no trainer
  // keeps running unseen beside a new one.
  const launcher = Number(process.env[PARENT_PID]);
  // Not inherited further: an sts started by this one has a launcher of its own.
  delete process.env[PARENT_PID];
  if (launcher > 0) {
    setInterval(() => {
      if (process.ppid !== launcher) process.kill(process.pid, 'SIGTERM');
    }, 500).unref();
  }
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(process.argv);
}
