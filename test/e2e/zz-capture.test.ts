import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { exampleRepo } from '/work/wt/progress/test/helpers/repo.js';
import { runCliOnTerminal } from '/work/wt/progress/test/helpers/terminal.js';
it('capture', async () => {
  const dir = exampleRepo();
  const r = await runCliOnTerminal(['deployment', 'rollout', 'payment-service', '--target', 'dev', '--yes'], { cwd: dir, timeoutMs: 300000 });
  writeFileSync('/tmp/cap.out', r.stdout);
  writeFileSync('/tmp/cap.dir', dir);
}, 400000);
