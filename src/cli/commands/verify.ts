// `atmos deployment verify <d> --target t`: checks that every image the target runs was built here
// (build record), has provenance from a commit the target runs, is the image recorded (digest) and has
// its SBOM. Exit 3 naming each check that does not hold. Reads only: no fetch, no write.
import type { CommandContext } from '../context.js';
import { renderTable, writeResult } from '../output.js';
import { openDeployment } from '../../tracking/open.js';
import { policyError } from '../../util/errors.js';

export async function run(args: string[], options: { target?: string }, ctx: CommandContext): Promise<number> {
  // Offline: verifying what this clone holds must not change it (a fetch would).
  const opened = await openDeployment(ctx, args[0]!, { offline: true, target: options.target });
  const { requireTarget } = await import('../../config/deployment.js');
  const target = requireTarget(opened.spec, options.target).name;
  const { verifyTarget } = await import('../../engine/verify.js');
  const result = await verifyTarget(opened, target, ctx.env);
  const mark = (ok: boolean | undefined) => (ok === undefined ? '-' : ok ? 'ok' : 'FAILED');
  writeResult(ctx, result, () =>
    result.images.length === 0
      ? `${opened.spec.name}/${target} runs no images`
      : renderTable(
          result.images.map((i) => {
            const ok = (name: string) => mark(i.checks.find((c) => c.check === name)?.ok);
            return { component: i.component, image: i.image, commit: i.commit?.slice(0, 12) ?? '-', record: ok('build-record'), provenance: ok('provenance'), digest: ok('digest'), sbom: ok('sbom') };
          }),
          ['component', 'image', 'commit', 'record', 'provenance', 'digest', 'sbom'],
        ),
  );
  const problems = result.images.flatMap((i) => i.checks.filter((c) => !c.ok).map((c) => ({ message: `${i.component} ${i.image}: ${c.check}: ${c.detail}` })));
  if (problems.length === 0) return 0;
  const summary = `${problems.length} check${problems.length === 1 ? '' : 's'} of ${opened.spec.name}/${target} do not hold`;
  throw policyError('E_VERIFY_FAILED', problems.length === 1 ? problems[0]!.message : `${summary}:`, problems.length === 1 ? {} : { problems });
}
