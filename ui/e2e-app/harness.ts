// Processes for end-to-end tests of the real app: Xvfb on a free display,
// tauri-driver on free ports, `tern serve --demo` on 127.0.0.1:0. Every process
// started here is ended by its id in `stopAll`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { sleep } from './webdriver';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ARTIFACTS = resolve(ROOT, 'test-artifacts/app');
export const APP = resolve(ROOT, 'target/debug/tern-app');
export const TERN = resolve(ROOT, 'target/debug/tern');
/** The UI build the server serves the dashboard from. */
export const DIST = resolve(ROOT, 'ui/dist');

const started: ChildProcess[] = [];

function track(child: ChildProcess): ChildProcess {
  started.push(child);
  return child;
}

/** Ends every process this harness started, by id, youngest first. */
export async function stopAll(): Promise<void> {
  for (const child of started.reverse()) {
    if (child.exitCode === null && child.pid) {
      child.kill('SIGTERM');
      for (let i = 0; i < 30 && child.exitCode === null; i++) await sleep(100);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
  started.length = 0;
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

/** Xvfb on the first free display from :99; returns `:N`. */
export async function xvfb(width: number, height: number): Promise<string> {
  for (let n = 99; n < 199; n++) {
    if (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) continue;
    const child = track(spawn('Xvfb', [`:${n}`, '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp'], { stdio: 'ignore' }));
    for (let i = 0; i < 50; i++) {
      if (existsSync(`/tmp/.X11-unix/X${n}`)) return `:${n}`;
      if (child.exitCode !== null) break;
      await sleep(100);
    }
  }
  throw new Error('no free X display for Xvfb');
}

/** tauri-driver for the app, with the app's data folder in its environment. */
export async function tauriDriver(display: string, dataDir: string, env: Record<string, string> = {}): Promise<string> {
  const port = await freePort();
  const native = await freePort();
  const bin = process.env.TAURI_DRIVER ?? resolve(process.env.HOME ?? '/root', '.cargo/bin/tauri-driver');
  track(
    spawn(bin, ['--port', String(port), '--native-port', String(native)], {
      stdio: 'ignore',
      env: { ...process.env, ...env, DISPLAY: display, TERN_APP_DATA: dataDir },
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${base}/status`);
      if (res.ok) return base;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error('tauri-driver did not start');
}

export interface Server {
  url: string;
  data: string;
  code: string;
  users: { name: string; role: string; password: string }[];
}

/** A real `tern serve --demo` on a free port, with its demo users and code. */
export async function ternServe(data: string): Promise<Server> {
  mkdirSync(data, { recursive: true });
  const child = track(spawn(TERN, ['serve', '--data', data, '--listen', '127.0.0.1:0', '--demo', '--dashboard', DIST], { stdio: ['ignore', 'pipe', 'ignore'] }));
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  for (let i = 0; i < 200; i++) {
    const lines = out.split('\n');
    if (lines.length >= 3) {
      const addr = lines[0]!.trim();
      const demo = JSON.parse(lines[1]!) as { enrolment_code: string; users: Server['users'] };
      const url = addr.startsWith('http') ? addr : `http://${addr}`;
      return { url, data, code: demo.enrolment_code, users: demo.users };
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`tern serve did not start: ${out}`);
}

/** Runs the `tern` CLI; returns stdout, throws with stderr on failure. */
export function tern(args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(TERN, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tern ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export function saveShot(name: string, png: Buffer): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(resolve(ARTIFACTS, `${name}.png`), png);
}

/** Resident memory (KiB) of the app process and of the WebKit processes it started. */
export function memory(): { app: number; webkit: number } {
  let app = 0;
  let webkit = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      if (cmd.startsWith(APP)) app += rss;
      else if (/WebKit(Web|Network)Process/.test(cmd) && isDescendantOfApp(pid)) webkit += rss;
    } catch {
      // the process ended
    }
  }
  return { app, webkit };
}

function isDescendantOfApp(pid: string): boolean {
  let p = pid;
  for (let i = 0; i < 10; i++) {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]!;
    if (ppid === '0' || ppid === '1') return false;
    if (readFileSync(`/proc/${ppid}/cmdline`, 'utf8').startsWith(APP)) return true;
    p = ppid;
  }
  return false;
}
