// The HCL parser: HashiCorp's own, compiled to WebAssembly in @cdktf/hcl2json,
// so the checks read .tf files exactly as Terraform does without a terraform
// binary. Loaded with require and typed here: the package's declarations pull
// in the DOM library, which this Node-only build must not see.
export interface AstNode {
  type: string;
  children: AstNode[];
  meta?: {
    value?: string;
    name?: string;
    keyVar?: string;
    valVar?: string;
    items?: Record<string, string>;
    traversal?: Array<{ type: 'nameTraversal' | 'indexTraversal'; segment: string }>;
  };
}

interface Hcl2Json {
  parse(filename: string, contents: string): Promise<Record<string, unknown>>;
  getExpressionAst(filename: string, expression: string): Promise<AstNode | null>;
}

const hcl2json = require('@cdktf/hcl2json') as Hcl2Json;

/** A .tf or .tfvars file as JSON: blocks become nested objects, expressions `${...}` strings. */
export function parseHcl(file: string, text: string): Promise<Record<string, unknown>> {
  return hcl2json.parse(file, text);
}

const END = '__MERIDIAN_HCL_END__';

/**
 * The syntax tree of a string from parseHcl (or of a whole template file).
 * Wrapped as a heredoc template, where quotes and backslashes need no escaping.
 */
export async function templateAst(file: string, text: string): Promise<AstNode | null> {
  return hcl2json.getExpressionAst(file, `<<${END}\n${text}\n${END}\n`);
}
