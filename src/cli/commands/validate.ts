import type { CommandContext } from '../context.js';
export async function run(_args: string[], _options: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  ctx.stdout.write('not yet\n');
  return 0;
}
