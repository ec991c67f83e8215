// The CLI's stdout and stderr (src/cli/stdio.ts): to a pipe or a file each write goes to the file
// descriptor at once, without Node's stream modules; nothing is lost or reordered when the descriptor
// is non-blocking and its reader slow; a reader that has gone is not an error. Each case runs the built
// module in a child process, whose descriptors are the ones under test.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createColors } from '../../../src/cli/colors.js';
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
  it('to a pipe: every write in order, and no stream module loaded', () => {
    const r = spawnSync(process.execPath, run(writer(1000)), { encoding: 'utf8' });
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

  it('a non-blocking pipe whose reader waits: nothing lost or reordered', async () => {
    // Making process.stdout first sets the pipe non-blocking (as a Node process sharing the pipe
    // would); the pipe holds far less than is written while the reader is paused, so a write would block.
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

  it('a reader that has gone: later writes go nowhere and the process carries on', async () => {
    const child = spawn(process.execPath, run(`${writer(200_000)}\nrequire('node:fs').writeSync(2, 'carried on\\n');`), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((done) => child.on('close', done));
    expect(code, err).toBe(0);
    expect(err).toContain('carried on');
    expect(err).not.toMatch(/EPIPE|Error/);
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
