/**
 * Gateway nodes as real OS processes on one shared store: `sluice worker` (scheduler only) or
 * `sluice start` (web server and scheduler). Each reports its lease holder id once it is up, so a
 * test can tell which process ran what from the shared run history, and kill that one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../../src/config.js';
import { parseHolder } from '../../../src/sync/lease.js';
import { cliEnv } from '../../sync/support/gateways.js';

const CLI = path.join(repoRoot, 'src', 'cli', 'bin.ts');

export interface ClusterNode {
  name: string;
  kind: 'worker' | 'start';
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote (pino JSON lines on stdout, anything on stderr). */
  output(): string;
  /** Resolves once the process says it is up. */
  ready: Promise<void>;
  /** SIGTERM (the runs in progress end first) and wait; harmless when it already exited. */
  stop(): Promise<void>;
  /** SIGKILL: no chance to release a lease or finish a run. */
  kill(): Promise<void>;
}

export async function spawnNode(options: { name: string; kind: 'worker' | 'start'; store: string; env: Record<string, string> }): Promise<ClusterNode> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-node-'));
  const args =
    options.kind === 'worker'
      ? ['worker', '--store', options.store, '--data', dataDir, '--name', options.name]
      : ['start', '--store', options.store, '--data', dataDir, '--name', options.name, '--host', '127.0.0.1', '--port', '0'];
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: repoRoot, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const readyText = options.kind === 'worker' ? '"worker started"' : 'listening on';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.name} did not start within 90 s:\n${output}`)), 90_000);
    const check = () => {
      if (!output.includes(readyText)) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve();
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was up:\n${output}`));
    });
  });
  ready.catch(() => undefined);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const end = async (signal: NodeJS.Signals) => {
    if (alive()) child.kill(signal);
    await exited;
  };
  return {
    name: options.name,
    kind: options.kind,
    pid: child.pid!,
    child,
    output: () => output,
    ready,
    async stop() {
      await end('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    },
    async kill() {
      await end('SIGKILL');
    },
  };
}

/** The pid in a lease holder id (`host:pid:random`), which is what run records name. */
export function holderPid(holder: string | undefined): number | undefined {
  return holder === undefined ? undefined : parseHolder(holder)?.pid;
}
