// The CLI's stdout and stderr (src/cli/stdio.ts): to a pipe, a socket or a file each write goes to the
// file descriptor at once, without Node's stream modules; nothing is lost or reordered when the
// descriptor is non-blocking and its reader slow; a reader that has gone is not an error. Each case
// runs the built module in a child process, whose descriptors are the ones under test (what Node calls
// a 'pipe' for a child's stdio is a socket; a shell pipe is a pipe).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, type writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createColors } from '../../../src/cli/colors.js';
import { standardOutput } from '../../../src/cli/stdio.js';
import { tempDir } from '../../helpers/repo.js';

const stdio = pathToFileURL(join(import.meta.dirname, '../../../dist/cli/stdio.js')).href;

/** A child that writes `lines` numbered lines through standardOutput(1), as strings and as bytes. */
function writer(lines: number, before = ''): string {
  return [
    `import { standardOutput } from ${JSON.stringify(stdio)};`,
    before,
    'const out = standardOutput(1, () => process.stdout);',
    `for (let i = 0; i < ${lines}; i++) out.write(i % 2 ? 'line ' + i + '\\n' : Buffer.from('line ' + i + '\\n'));`,
    "const loaded = process.moduleLoadList.filter((m) => /^NativeModule (net|tty|internal\\/fs\\/sync_write_stream)$/.test(m));",
    "require('node:fs').writeSync(2, 'loaded: ' + loaded.join(',') + '\\n');",
  ].join('\n');
}

const expected = (lines: number) => Array.from({ length: lines }, (_, i) => `line ${i}\n`).join('');
const run = (script: string) => ['--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);\n${script}`];

describe('standardOutput', () => {
  it('to a socket: every write in order, and no stream module loaded', () => {
    const r = spawnSync(process.execPath, run(writer(1000)), { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected(1000));
    expect(r.stderr).toBe('loaded: \n');
  });

  it('to a shell pipe: the same', () => {
    const r = spawnSync('sh', ['-c', '"$NODE" --input-type=module -e "$SCRIPT" | cat'], { encoding: 'utf8', env: { ...process.env, NODE: process.execPath, SCRIPT: run(writer(1000))[2] } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected(1000));
    expect(r.stderr).toBe('loaded: \n');
  });

  it('to a file: the same', () => {
    const file = join(tempDir(), 'out.txt');
    const fd = openSync(file, 'w');
    try {
      const r = spawnSync(process.execPath, run(writer(1000)), { encoding: 'utf8', stdio: ['ignore', fd, 'pipe'] });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('loaded: \n');
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, 'utf8')).toBe(expected(1000));
  });

  it('a non-blocking socket whose reader waits: nothing lost or reordered', async () => {
    // Making process.stdout first sets the socket non-blocking (as a Node process sharing it would);
    // it holds far less than is written while the reader is paused, so a write would block.
    const lines = 100_000;
    const child = spawn(process.execPath, run(writer(lines, 'process.stdout;')), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pause();
    await new Promise((done) => setTimeout(done, 300));
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.stdout.resume();
    const code = await new Promise((done) => child.on('close', done));
    expect(code, err).toBe(0);
    expect(out.length).toBe(expected(lines).length);
    expect(out).toBe(expected(lines));
  });

  const carryOn = `${writer(200_000)}\nrequire('node:fs').writeSync(2, 'carried on\\n');`;

  it('a reader that has gone (a pipe: EPIPE): later writes go nowhere and the process carries on', () => {
    const r = spawnSync('sh', ['-c', '{ "$NODE" --input-type=module -e "$SCRIPT"; echo "exit $?" >&2; } | head -c 10 >/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, NODE: process.execPath, SCRIPT: run(carryOn)[2] },
    });
    expect(r.stderr).toContain('carried on');
    expect(r.stderr).toContain('exit 0');
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it('a reader that has gone (a socket): the same', async () => {
    const child = spawn(process.execPath, run(carryOn), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((done) => child.on('close', done));
    expect(code, err).toBe(0);
    expect(err).toContain('carried on');
    expect(err).not.toMatch(/ECONNRESET|EPIPE|Error/);
  });

  // What the kernel answers depends on timing (a socket closed with data unread gives ECONNRESET, else
  // EPIPE), so each answer is also given directly.
  const fds: number[] = [];
  const fileFd = () => fds[fds.push(openSync(join(tempDir(), 'out'), 'w')) - 1]!;
  afterAll(() => fds.forEach((fd) => closeSync(fd)));
  const failing = (...codes: string[]) => {
    const calls: number[] = [];
    const write = ((_fd: number, bytes: Uint8Array, at: number) => {
      const code = codes.shift();
      calls.push(at);
      if (code === 'partial') return Math.min(4, bytes.length - at);
      if (code) throw Object.assign(new Error(code), { code });
      return bytes.length - at;
    }) as typeof writeSync;
    return { write, calls };
  };
  const noStream = () => {
    throw new Error('no stream expected');
  };

  it.each(['EPIPE', 'ECONNRESET'])('%s: that write and every later one go nowhere, without an error', (code) => {
    const { write, calls } = failing(code);
    const out = standardOutput(fileFd(), noStream, write);
    expect(out.write('first')).toBe(true);
    expect(out.write('second')).toBe(true);
    expect(calls).toEqual([0]);
  });

  it('any other error is thrown', () => {
    const { write } = failing('EIO');
    expect(() => standardOutput(fileFd(), noStream, write).write('x')).toThrow('EIO');
  });

  it('EAGAIN after part of a write: the rest of it, and every later write, go to the stream in order', () => {
    const { write, calls } = failing('partial', 'EAGAIN');
    const given: string[] = [];
    const stream = { write: (chunk: Uint8Array | string) => given.push(Buffer.from(chunk).toString()), on: () => stream };
    const out = standardOutput(fileFd(), () => stream as unknown as NodeJS.WriteStream, write);
    out.write('abcdefgh');
    out.write('ij');
    expect(calls).toEqual([0, 4]);
    expect(given).toEqual(['efgh', 'ij']);
  });
});

describe('createColors', () => {
  it('styles text when enabled, and leaves it plain when not', () => {
    const on = createColors(true);
    expect(on.red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(on.bold(1)).toBe('\x1b[1m1\x1b[22m');
    const off = createColors(false);
    expect(off.red('x')).toBe('x');
    expect(off.dim(2)).toBe('2');
  });

  it('turns the outer style on again after an inner one of the same kind ends', () => {
    const c = createColors(true);
    expect(c.red(`a ${c.green('b')} c`)).toBe('\x1b[31ma \x1b[32mb\x1b[39m\x1b[31m c\x1b[39m');
    expect(c.bold(`a ${c.dim('b')} c`)).toBe('\x1b[1ma \x1b[2mb\x1b[22m\x1b[1m c\x1b[22m');
  });
});
