// The one HCL reader: blocks, literal attributes, heredocs (CRLF too), the variables an expression uses.
import { describe, expect, it } from 'vitest';
import { parseTfvars, scanHcl } from '../../../src/util/hcl.js';

describe('scanHcl', () => {
  it('reads attributes after a heredoc holding a quote and a brace, with CRLF line ends', () => {
    const text = ['variable "password" {', '  description = <<EOT', 'Must not contain " or }.', 'EOT', '  sensitive = true', '}', 'variable "n" {', '  default = 3', '}'].join('\r\n');
    const { blocks, errors } = scanHcl(text);
    expect(errors).toEqual([]);
    expect(blocks.map((b) => [b.labels[0], Object.fromEntries([...b.attributes].map(([k, a]) => [k, a.value]))])).toEqual([
      ['password', { description: 'Must not contain " or }.\r\n', sensitive: true }],
      ['n', { default: 3 }],
    ]);
  });

  it('names the variables an expression uses, in strings and heredocs; nested blocks are kept', () => {
    const { blocks } = scanHcl('output "x" {\n  value = "${var.a}-${local.b}"\n}\noutput "y" {\n  value = <<-EOT\n    ${var.c}\n    EOT\n  precondition {\n    condition = var.d != ""\n  }\n}\n');
    expect([...blocks[0]!.attributes.get('value')!.vars]).toEqual(['a']);
    expect(blocks[0]!.attributes.get('value')!.value).toBeUndefined();
    expect([...blocks[1]!.attributes.get('value')!.vars]).toEqual(['c']);
    expect(blocks[1]!.blocks.map((b) => b.type)).toEqual(['precondition']);
  });

  it('parseTfvars: literal values only', () => {
    expect(parseTfvars('a = -1.5\nb = [true, null, "x"]\nc = { d = { e = 1 } }\n')).toEqual({ a: -1.5, b: [true, null, 'x'], c: { d: { e: 1 } } });
    expect(() => parseTfvars('a = var.x\n')).toThrow(/line 1/);
  });
});
