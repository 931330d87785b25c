import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { checkTerraformTree } from './check-tree';

function write(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
}

const CHILD = `
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
variable "needed" {
  type = string
}
output "real" {
  value = var.needed
}
`;

describe('the Terraform checks', () => {
  let root = '';
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-tf-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const messages = async () => (await checkTerraformTree(root)).problems.map((p) => `${p.file}: ${p.message}`).sort();

  it('passes a module whose every reference resolves', async () => {
    write(root, {
      'child/main.tf': CHILD,
      'main.tf': `
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  alias  = "fra"
  region = var.region
}
variable "region" {
  type = list(string)
  validation {
    condition     = length(var.region) > 0
    error_message = "needs one."
  }
}
variable "names" {
  type    = map(object({ port = number }))
  default = {}
}
locals {
  ports = [for name, n in var.names : n.port if name != ""]
}
resource "aws_security_group" "sg" {
  provider = aws.fra
  dynamic "ingress" {
    for_each = local.ports
    content {
      from_port = ingress.value
    }
  }
  lifecycle {
    ignore_changes = [tags]
  }
}
resource "aws_instance" "web" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.sg.id]
  user_data              = templatefile("\${path.module}/u.tftpl", { name = count.index })
  depends_on             = [aws_security_group.sg]
}
module "child" {
  source    = "./child"
  count     = 1
  providers = { aws = aws.fra }
  needed    = aws_instance.web[0].id
}
output "real" {
  value = module.child[0].real
}
`,
      'u.tftpl': '%{ for i in [1] ~}${name}-${i}%{ endfor ~}\n',
      'example.tfvars': 'region = ["x"]\n',
    });
    assert.deepEqual(await messages(), []);
  });

  it('reports every broken reference, input, provider and template', async () => {
    write(root, {
      'child/main.tf': CHILD,
      'main.tf': `
variable "used" {
  type = string
}
variable "unused" {
  type    = string
  default = "x"
}
locals {
  a = var.used
}
resource "aws_instance" "web" {
  ami        = var.missing
  tags       = { a = local.nope, b = local.a }
  user_data  = templatefile("\${path.module}/t.tftpl", { name = var.used, extra = 1 })
  depends_on = [aws_eip.gone]
}
output "x" {
  value = data.aws_ami.none.id
}
module "child" {
  source    = "./child"
  nope      = 1
  providers = { aws = aws.ghost }
}
output "y" {
  value = module.child.not_an_output
}
output "z" {
  value = module.other.x
}
output "typo" {
  value = vars.used
}
`,
      't.tftpl': 'hello ${name} ${missing_var}\n',
      'example.tfvars': 'used = "a"\nnot_declared = 1\n',
    });
    assert.deepEqual(await messages(), [
      'example.tfvars: sets "not_declared", which is not a variable of ' + path.basename(root),
      'main.tf: module "child": input "nope" is not a variable of ./child',
      'main.tf: module "child": provider configuration "aws.ghost" is not declared',
      'main.tf: module "child": required input "needed" (no default in ./child) is not given',
      'main.tf: output typo: vars.used: "vars" is not something this module declares',
      'main.tf: output x: data.aws_ami.none is not a declared data source',
      'main.tf: output y: module.child.not_an_output: module "child" has no output "not_an_output"',
      'main.tf: output z: module.other is not a declared module',
      'main.tf: resource aws_instance.web: aws_eip.gone is not a declared resource',
      'main.tf: resource aws_instance.web: local.nope is not a declared local value',
      'main.tf: resource aws_instance.web: t.tftpl uses "missing_var", which templatefile() does not pass',
      'main.tf: resource aws_instance.web: templatefile() passes "extra", which t.tftpl never uses',
      'main.tf: resource aws_instance.web: var.missing is not a declared variable',
      'main.tf: variable "unused" is declared but never used',
    ]);
  });

  it('reports a file that does not parse, with the parser\'s place', async () => {
    write(root, { 'main.tf': 'variable "x" {\n  type = string\n' });
    const [problem, ...rest] = (await checkTerraformTree(root)).problems;
    assert.equal(rest.length, 0);
    assert.match(problem!.message, /main\.tf:\d+,\d+/);
  });

  it('reports a duplicate declaration and a module source without .tf files', async () => {
    write(root, {
      'a.tf': 'output "o" {\n  value = 1\n}\n',
      'b.tf': 'output "o" {\n  value = 2\n}\nmodule "m" {\n  source = "./nowhere"\n}\n',
    });
    assert.deepEqual(await messages(), [
      'b.tf: module "m": source "./nowhere" has no .tf files',
      'b.tf: output "o" is declared twice (also in a.tf)',
    ]);
  });
});
