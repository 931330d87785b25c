// A configuration the edge refuses to start with (or to reload): every line
// names the file, the document and the field.
export class ConfigError extends Error {
  readonly lines: string[];

  constructor(lines: string[]) {
    super(lines.join('\n'));
    this.name = 'ConfigError';
    this.lines = lines;
  }
}
