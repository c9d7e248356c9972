// What the HTTP benchmarks share about their server processes. Pinning: on a machine of two or more
// CPUs with taskset, this process (the load generator) on CPU 0 and the servers it starts on CPU 1.
// Unpinned on a shared 2-vCPU VM, which server happened to share a CPU with the load generator
// moved its CPU per request by up to 20 % between two identical servers. Pin only where every
// server measured is the bottleneck (about one CPU busy): a server with CPU to spare wakes for fewer
// requests at a time, and its CPU per request reads high (bench/http-kit's bare fastify did, pinned,
// so that benchmark is not).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * Pins this process to CPU 0 and returns how to start a Node server on CPU 1
 * (`[command, args]` for spawn), or null where pinning is not possible (then spawn node as usual).
 */
export function pinLoadGeneratorAndServers() {
  if (availableParallelism() < 2) return null;
  try {
    execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return (args) => ['taskset', ['-c', '1', process.execPath, ...args]];
}

/** Spawn arguments for a Node server, on the server CPU when pinned. */
export function serverCommand(onServerCpu, args) {
  return onServerCpu ? onServerCpu(args) : [process.execPath, args];
}

export const PINNED_DESCRIPTION = 'servers on CPU 1; load generator (and receivers it starts) on CPU 0';

/**
 * CPU time (user + system, all threads) a process has used, from /proc. CPU per request stays
 * meaningful when other work shares the machine, where requests/s alone swings with the load.
 */
export function cpuSecondsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const clockTicksPerSecond = 100;
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}
