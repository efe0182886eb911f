#!/usr/bin/env node
/**
 * The `sts` entry point: reruns itself on jemalloc when that helps (see allocator.ts), else runs the program. Nothing
 * heavy is imported before that choice, so the first process stays small.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { jemallocEnv } from '../engine/allocator.js';

const env = jemallocEnv(process.env);
if (env) {
  // The child gets a process group of its own, so that a signal reaches it once, passed on from here, whether it
  // came from the terminal (Ctrl-C goes to the foreground group: this process) or was sent to this process's pid.
  // Its first SIGINT stops the work cleanly, a second one at once, as when `sts` runs without the rerun.
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env, detached: true });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    console.error(`sts: error: could not start ${process.execPath}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
  });
} else {
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(process.argv);
}
