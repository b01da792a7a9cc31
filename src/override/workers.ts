// Worker threads run `--require` preloads but not `--import` ones (Node 20 to 26), so the hook makes
// every Worker created afterwards preload it, where it then borrows the process's stack.
import { syncBuiltinESMExports } from 'node:module';
import type { WorkerOptions } from 'node:worker_threads';

export function preloadInWorkers(file: string): void {
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const Original = threads.Worker;
  if ((Original as { iothtsPreload?: string }).iothtsPreload === file) return;
  class Worker extends Original {
    static iothtsPreload = file;
    constructor(filename: string | URL, options: WorkerOptions = {}) {
      const execArgv = options.execArgv ?? process.execArgv;
      super(filename, { ...options, execArgv: execArgv.includes(file) ? execArgv : [...execArgv, '--require', file] });
    }
  }
  threads.Worker = Worker;
  syncBuiltinESMExports();
}
