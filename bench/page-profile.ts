/**
 * CPU profiles of a page's threads (its main thread and every worker) through the DevTools protocol, for the
 * web benchmarks' `--profile`: where the page's time goes, by function, rather than guessed from wall clocks.
 * The workers are reached by auto-attaching to them (not flattened, so Playwright's own sessions are untouched) and
 * talking through `Target.sendMessageToTarget`. The summary is self time per function, as DevTools' bottom-up view.
 */
import { writeFile } from 'node:fs/promises';
import type { CDPSession, Page } from 'playwright-core';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface PageProfiler {
  /** Stops every profile; writes each to `<prefix>-<thread>.cpuprofile` (DevTools opens them) and returns them. */
  stop(prefix?: string): Promise<{ thread: string; profile: CpuProfile }[]>;
}

/** Starts sampling the page's main thread and its workers (those running now and those started later). */
export async function startPageProfiler(page: Page, intervalUs = 1000): Promise<PageProfiler> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  const workers = new Map<string, { url: string; pending: Map<number, (result: unknown) => void> }>();
  let nextId = 1;
  const toWorker = (sessionId: string, method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      workers.get(sessionId)!.pending.set(id, resolve);
      void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
  cdp.on('Target.receivedMessageFromTarget', ({ sessionId, message }: { sessionId: string; message: string }) => {
    const reply = JSON.parse(message) as { id?: number; result?: unknown };
    const worker = workers.get(sessionId);
    if (reply.id !== undefined && worker?.pending.has(reply.id)) {
      worker.pending.get(reply.id)!(reply.result);
      worker.pending.delete(reply.id);
    }
  });
  const started: Promise<unknown>[] = [];
  cdp.on('Target.attachedToTarget', ({ sessionId, targetInfo }: { sessionId: string; targetInfo: { type: string; url: string } }) => {
    if (targetInfo.type !== 'worker') return;
    workers.set(sessionId, { url: targetInfo.url, pending: new Map() });
    started.push(
      (async () => {
        await toWorker(sessionId, 'Profiler.enable');
        await toWorker(sessionId, 'Profiler.setSamplingInterval', { interval: intervalUs });
        await toWorker(sessionId, 'Profiler.start');
        // A worker attached this way waits for the debugger until told to run.
        await toWorker(sessionId, 'Runtime.runIfWaitingForDebugger');
      })(),
    );
  });
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: intervalUs });
  await cdp.send('Profiler.start');
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  return {
    async stop(prefix) {
      await Promise.all(started);
      const out: { thread: string; profile: CpuProfile }[] = [];
      out.push({ thread: 'main', profile: ((await cdp.send('Profiler.stop')) as { profile: CpuProfile }).profile });
      for (const [sessionId, { url }] of workers) {
        const result = (await toWorker(sessionId, 'Profiler.stop')) as { profile?: CpuProfile } | undefined;
        if (result?.profile) out.push({ thread: url.replace(/^.*\//, '').replace(/[^\w.-]+/g, '_') || sessionId, profile: result.profile });
      }
      await cdp.detach();
      if (prefix) for (const { thread, profile } of out) await writeFile(`${prefix}-${thread}.cpuprofile`, JSON.stringify(profile));
      return out;
    },
  };
}

/** Self time per function (name and place), largest first, with the profile's whole span. */
export function selfTimes(profile: CpuProfile): { totalMs: number; rows: { name: string; ms: number }[] } {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byNode.get(profile.samples[i]);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'}${url ? ` ${url.replace(/^.*\//, '').replace(/\?.*$/, '')}:${lineNumber + 1}` : ''}`;
    // timeDeltas[i] is the time before sample i; the sample stands for the time up to the next one.
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    ms.set(name, (ms.get(name) ?? 0) + dt);
  }
  const rows = [...ms].map(([name, t]) => ({ name, ms: t })).sort((a, b) => b.ms - a.ms);
  return { totalMs: (profile.endTime - profile.startTime) / 1000, rows };
}

/** The top of each thread's self times, as lines to print. */
export function profileSummary(profiles: readonly { thread: string; profile: CpuProfile }[], top = 20): string[] {
  const lines: string[] = [];
  for (const { thread, profile } of profiles) {
    const { totalMs, rows } = selfTimes(profile);
    lines.push(`${thread}: ${(totalMs / 1000).toFixed(1)} s profiled`);
    for (const r of rows.slice(0, top)) lines.push(`  ${(r.ms / 1000).toFixed(2).padStart(8)} s  ${((100 * r.ms) / totalMs).toFixed(1).padStart(5)}%  ${r.name}`);
  }
  return lines;
}
