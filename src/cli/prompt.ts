// The terminal side of a question a command asks (the rollout's [y/N] approval): the policy in plan/
// decides when to ask and what the answer means; this writes the question and reads the answer.
import type { Readable } from 'node:stream';
import type { TextOutput } from './stdio.js';
import type { Prompt } from '../plan/approval.js';

/** Reads one line from `stdin` (without closing it); an empty one when `signal` aborts (Ctrl-C). */
export function readLine(stdin: Readable, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const eol = text.indexOf('\n');
      if (eol >= 0) finish(text.slice(0, eol));
    };
    const onEnd = () => finish(text);
    const onAbort = () => finish('');
    const finish = (line: string) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      signal?.removeEventListener('abort', onAbort);
      stdin.pause();
      resolve(line.trim());
    };
    if (signal?.aborted) return finish('');
    signal?.addEventListener('abort', onAbort);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}

/** A prompt on the terminal: the question on stderr, the answer one line of stdin (none after Ctrl-C). */
export function terminalPrompt(stdin: Readable, stderr: TextOutput, signal?: AbortSignal): Prompt {
  return (question) => {
    stderr.write(question);
    return readLine(stdin, signal);
  };
}
