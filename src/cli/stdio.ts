// The CLI's stdout and stderr (bin.ts). Node makes `process.stdout` a stream the first time it is
// asked for, and loads its stream modules to do so: for a pipe, more than a tenth of Node's own
// start-up, spent by a command that prints one document. So the CLI takes Node's stream only on a
// terminal (or another character device), where colours, widths and the live view need it; to a pipe,
// a file or a socket each write goes to the file descriptor at once, synchronously, as Node's own
// stream does there on Linux. The order of writes is kept either way.
import { fstatSync, writeSync } from 'node:fs';

/** What commands write text to: Node's stream on a terminal, else a writer of the file descriptor. */
export interface TextOutput {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/**
 * stdout (fd 1) or stderr (fd 2), written with `write` (fs.writeSync; a test gives its own). `stream`
 * gives Node's stream for it, asked for only on a character device or when a write would block (a
 * descriptor another process set non-blocking, its reader slow): from then on every write goes
 * through the stream, which waits for the reader. A reader that has gone (`atmos deployment history d
 * | head -3`) gets nothing more, quietly, and the command runs to its end; any other error is thrown.
 */
export function standardOutput(fd: number, stream: () => NodeJS.WriteStream, write: typeof writeSync = writeSync): TextOutput {
  let direct: boolean;
  try {
    direct = !fstatSync(fd).isCharacterDevice();
  } catch {
    direct = false; // closed or unknown: Node's stream decides what that means
  }
  if (!direct) return ignoringReaderGone(stream());
  let fallback: NodeJS.WriteStream | undefined;
  let gone = false;
  return {
    write(chunk) {
      if (gone) return true;
      if (fallback) return fallback.write(chunk);
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      for (let at = 0; at < bytes.length; ) {
        try {
          at += write(fd, bytes, at);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (readerGone(code)) {
            gone = true;
            return true;
          }
          if (code !== 'EAGAIN') throw error;
          fallback = ignoringReaderGone(stream());
          return fallback.write(bytes.subarray(at));
        }
      }
      return true;
    },
  };
}

/**
 * The reader has gone: the far end of a pipe (EPIPE) or of a socket (ECONNRESET when it closed with
 * data unread, as a process that spawned the CLI with a pipe does) is closed.
 */
function readerGone(code: string | undefined): boolean {
  return code === 'EPIPE' || code === 'ECONNRESET';
}

/** Node's stream, with the same rule for a reader that has gone. */
function ignoringReaderGone(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (!readerGone(error.code)) throw error;
  });
  return stream;
}
