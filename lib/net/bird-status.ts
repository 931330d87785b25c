// Parses what `birdc -v` answers: every reply line carries a code (continued
// lines start with a space), so errors are told from data without guessing
// from the wording; and the table of `show protocols`. Pure.

export interface BirdReplyLine {
  code: number;
  text: string;
}

export function parseBirdReply(out: string): BirdReplyLine[] {
  const lines: BirdReplyLine[] = [];
  let code = 0;
  for (const raw of out.split('\n')) {
    if (raw === '') continue;
    const m = /^(\d{4})[ -](.*)$/.exec(raw);
    if (m) {
      code = Number(m[1]);
      lines.push({ code, text: m[2]! });
    } else if (raw.startsWith(' ')) {
      lines.push({ code, text: raw.slice(1) });
    } else {
      throw new Error(`birdc: reply line without a code: ${JSON.stringify(raw)}`);
    }
  }
  return lines;
}

// BIRD's reply codes: 8xxx are run-time errors, 9xxx parse errors.
export function replyError(lines: BirdReplyLine[]): string | null {
  const bad = lines.filter((l) => l.code >= 8000);
  return bad.length ? bad.map((l) => l.text).join('; ') : null;
}

export interface BirdProtocol {
  name: string;
  proto: string;
  table: string;
  // up, down, start, stop
  state: string;
  since: string;
  // For BGP: Established, Active, Connect, Idle... with any error after it.
  info: string;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TIME_RE = /^\d{2}:\d{2}/;
const PROTOCOL_ROW = 1002;

export function parseShowProtocols(lines: BirdReplyLine[]): BirdProtocol[] {
  return lines
    .filter((l) => l.code === PROTOCOL_ROW)
    .map((l) => {
      const t = l.text.trim().split(/\s+/);
      if (t.length < 5) throw new Error(`show protocols: short row ${JSON.stringify(l.text)}`);
      // The time is one token in our configs, but two ("date time") in some.
      const sinceTokens = DATE_RE.test(t[4]!) && t[5] !== undefined && TIME_RE.test(t[5]) ? 2 : 1;
      return {
        name: t[0]!,
        proto: t[1]!,
        table: t[2]!,
        state: t[3]!,
        since: t.slice(4, 4 + sinceTokens).join(' '),
        info: t.slice(4 + sinceTokens).join(' '),
      };
    });
}

export function isEstablished(p: BirdProtocol): boolean {
  return p.proto === 'BGP' && p.state === 'up' && /^Established\b/.test(p.info);
}
