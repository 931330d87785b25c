// Renders a systemd unit file from a plain description. Keys keep the order
// they are given in and a key may repeat (ExecStart= on oneshot units), so a
// section is a list of pairs, not a map.
export type UnitValue = string | number | boolean | Array<string | number>;

export interface UnitSection {
  name: 'Unit' | 'Service' | 'Install';
  entries: Array<[string, UnitValue | undefined]>;
}

export interface UnitFile {
  /** e.g. meridian-edge.service */
  name: string;
  /** One line on top saying what wrote the file and what the unit is. */
  comment: string;
  sections: UnitSection[];
}

export function renderUnit(unit: UnitFile): string {
  const lines = [`# ${unit.comment}`, '# Written by `meridian bootstrap`; run it again rather than editing this file.'];
  for (const section of unit.sections) {
    lines.push('', `[${section.name}]`);
    for (const [key, value] of section.entries) {
      if (value === undefined) continue;
      lines.push(`${key}=${formatValue(value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatValue(value: UnitValue): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.join(' ');
  const s = String(value);
  if (s.includes('\n')) throw new Error(`a unit value cannot span lines: ${JSON.stringify(s)}`);
  return s;
}

// The hardening every Meridian service gets unless it needs more rights: it
// cannot gain privileges, sees /usr, /boot and /etc read-only (and /home not
// at all), and writes only to its StateDirectory. No Meridian part calls a
// cloud API, so none may reach the instance metadata service, which hands out
// the instance role's credentials and the user data.
export const METADATA_ADDRESSES = ['169.254.169.254', 'fd00:ec2::254'];

export function hardening(): Array<[string, UnitValue]> {
  return [
    ['IPAddressDeny', METADATA_ADDRESSES],
    ['NoNewPrivileges', true],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', true],
    ['PrivateTmp', true],
    ['PrivateDevices', true],
    ['ProtectKernelTunables', true],
    ['ProtectKernelModules', true],
    ['ProtectControlGroups', true],
    ['RestrictSUIDSGID', true],
    ['LockPersonality', true],
    ['RestrictAddressFamilies', ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK']],
  ];
}
