// Terminal colour for `meridian status`: only on a terminal, never when
// NO_COLOR is set (https://no-color.org) or TERM is dumb, so pipes and files
// get plain text.
export interface Palette {
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const plain = (s: string) => s;
const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

export const NO_COLOUR: Palette = { green: plain, yellow: plain, red: plain, dim: plain, bold: plain };
export const ANSI_COLOUR: Palette = { green: sgr(32, 39), yellow: sgr(33, 39), red: sgr(31, 39), dim: sgr(2, 22), bold: sgr(1, 22) };

export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function paletteFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Palette {
  return colourWanted(stream, env) ? ANSI_COLOUR : NO_COLOUR;
}

// What a coloured string takes on screen.
export function visibleLength(s: string): number {
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}
