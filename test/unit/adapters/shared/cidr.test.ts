import { describe, expect, it } from 'vitest';
import { allowlist as sharedAllowlist } from '../../../../adapters/shared/cidr.js';
import { OscConfigError } from '../../../../daemon/kernel/errors.js';

/** As the OSC adapter uses it: a bad entry is PFM_ERR_OSC_CONFIG naming osc.allow. */
const allowlist = (entries: readonly string[]) =>
  sharedAllowlist(entries, (reason) => new OscConfigError(`osc.allow: ${reason}`));

/** What `fn` throws, with its code. */
function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a throw, got none');
}

/** Each row: an allowlist entry, addresses inside it, addresses outside it. */
const CASES: [entry: string, inside: string[], outside: string[]][] = [
  [
    '127.0.0.0/8',
    [
      '127.0.0.1',
      '127.0.0.0',
      '127.255.255.255',
      '127.1.2.3',
      '::ffff:127.0.0.1',
      '::FFFF:127.0.0.1',
      '::ffff:7f00:1',
    ],
    ['128.0.0.1', '126.255.255.255', '0.0.0.0', '255.255.255.255', '::1', '::ffff:128.0.0.1', '::7f00:1'],
  ],
  ['10.0.0.0/8', ['10.0.0.0', '10.255.255.255', '10.20.30.40'], ['11.0.0.0', '9.255.255.255', '110.0.0.1']],
  [
    '172.16.0.0/12',
    ['172.16.0.0', '172.16.0.1', '172.31.255.255', '::ffff:172.20.1.1'],
    ['172.15.255.255', '172.32.0.0', '172.0.0.1'],
  ],
  [
    '192.168.1.0/24',
    ['192.168.1.0', '192.168.1.1', '192.168.1.255', '::ffff:192.168.1.77'],
    ['192.168.0.255', '192.168.2.0', '192.169.1.1', '::ffff:192.168.2.1'],
  ],
  ['10.0.0.0/31', ['10.0.0.0', '10.0.0.1'], ['10.0.0.2', '9.255.255.255']],
  [
    '192.168.1.10/32',
    ['192.168.1.10', '::ffff:192.168.1.10'],
    ['192.168.1.11', '192.168.1.9', '192.168.1.100'],
  ],
  ['192.168.1.10', ['192.168.1.10', '::ffff:192.168.1.10'], ['192.168.1.11', '192.168.1.1', '192.168.1.0']],
  ['128.0.0.0/1', ['128.0.0.0', '200.1.1.1', '255.255.255.255'], ['127.255.255.255', '0.0.0.0', '1.1.1.1']],
  [
    '0.0.0.0/0',
    ['0.0.0.0', '1.2.3.4', '255.255.255.255', '::ffff:8.8.8.8'],
    // IPv4's /0 is every IPv4 address, and no native IPv6 one.
    ['::1', '2001:db8::1', 'fe80::1', '::'],
  ],
  [
    '::/0',
    // The 128-bit space holds IPv4 as ::ffff:0:0/96, so ::/0 is every address of both families.
    ['::', '::1', '2001:db8::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '1.2.3.4', '::ffff:1.2.3.4'],
    [],
  ],
  [
    '::1',
    ['::1', '0:0:0:0:0:0:0:1', '0000:0000:0000:0000:0000:0000:0000:0001'],
    ['::2', '::', '127.0.0.1', '1::'],
  ],
  ['::1/128', ['::1', '0::1'], ['::0', '::3', '::ffff:127.0.0.1', '127.0.0.1']],
  [
    'fe80::/10',
    [
      'fe80::1',
      'fe80::abcd:ef01:2345:6789',
      'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      'FE80::1',
      'fe80::1%eth0',
      'fe80::abcd%2',
    ],
    ['fec0::1', 'fe7f:ffff::1', 'ff02::1', '::1', '2001:db8::1', '127.0.0.1'],
  ],
  [
    '2001:db8::/32',
    ['2001:db8::', '2001:db8::1', '2001:DB8:0:0:1::1', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['2001:db9::', '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', '2002:db8::1', '::1'],
  ],
  [
    '2001:db8:1:2::/64',
    ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0000:0000:0000:0000'],
    ['2001:db8:1:3::1', '2001:db8:1:1:ffff:ffff:ffff:ffff'],
  ],
  ['2001:db8::7/127', ['2001:db8::6', '2001:db8::7'], ['2001:db8::5', '2001:db8::8']],
  ['1::', ['1::', '1:0:0:0:0:0:0:0'], ['1::1', '::1']],
  [
    '::ffff:0:0/96',
    ['0.0.0.0', '8.8.8.8', '255.255.255.255', '::ffff:10.0.0.1', '::ffff:0:1'],
    ['::1', '::', '::fffe:0:0', '2001:db8::1'],
  ],
  [
    '::ffff:10.0.0.0/104',
    ['10.0.0.1', '10.255.255.255', '::ffff:10.9.9.9'],
    ['11.0.0.1', '9.255.255.255', '::1'],
  ],
  ['::ffff:127.0.0.1', ['127.0.0.1', '::ffff:127.0.0.1'], ['127.0.0.2', '::1']],
];

describe('allowlist', () => {
  for (const [entry, inside, outside] of CASES) {
    it(`${entry}: lets in ${inside.length} addresses, keeps out ${outside.length}`, () => {
      const allowed = allowlist([entry]);
      for (const a of inside) expect(allowed(a), `${a} in ${entry}`).toBe(true);
      for (const a of outside) expect(allowed(a), `${a} not in ${entry}`).toBe(false);
    });
  }

  it('an empty list allows every source', () => {
    const allowed = allowlist([]);
    for (const a of ['127.0.0.1', '8.8.8.8', '::1', 'fe80::1%eth0', '2001:db8::1'])
      expect(allowed(a)).toBe(true);
  });

  it('allows an address inside any of several blocks', () => {
    const allowed = allowlist(['127.0.0.0/8', '192.168.0.0/16', '::1', 'fd00::/8']);
    for (const a of ['127.0.0.1', '::ffff:127.0.0.1', '192.168.44.3', '::1', 'fd12:3456::1']) {
      expect(allowed(a), a).toBe(true);
    }
    for (const a of ['10.0.0.1', '8.8.8.8', '::2', 'fe80::1', '172.16.0.1', 'fc00::1'])
      expect(allowed(a), a).toBe(false);
  });

  it('masks host bits of an entry (10.1.2.3/8 is 10.0.0.0/8)', () => {
    const allowed = allowlist(['10.1.2.3/8', '2001:db8::1234/32']);
    expect(allowed('10.200.0.1')).toBe(true);
    expect(allowed('2001:db8:ffff::1')).toBe(true);
    expect(allowed('11.0.0.1')).toBe(false);
  });

  it('keeps out anything that is not an IP address, without throwing', () => {
    const allowed = allowlist(['0.0.0.0/0', '::/0']);
    for (const a of [
      '',
      'localhost',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '::ffff:1.2.3',
      'fe80::g',
      ':::',
      '1.2.3.4/8',
    ]) {
      expect(allowed(a), JSON.stringify(a)).toBe(false);
    }
  });

  it('answers the same on repeated calls, also past the cache size', () => {
    const allowed = allowlist(['10.0.0.0/16']);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5000; i++) {
        const a = `10.${i % 2}.${(i >> 8) & 255}.${i & 255}`; // 10.0.x.y inside, 10.1.x.y outside
        expect(allowed(a)).toBe(i % 2 === 0);
      }
    }
  });

  it.each([
    ['not an address', 'abc'],
    ['empty', ''],
    ['an IPv4 prefix over 32', '10.0.0.0/33'],
    ['an IPv6 prefix over 128', '::/129'],
    ['a negative prefix', '10.0.0.0/-1'],
    ['a fractional prefix', '10.0.0.0/8.5'],
    ['a word as prefix', '10.0.0.0/eight'],
    ['five octets', '1.2.3.4.5'],
    ['an octet over 255', '300.0.0.0/8'],
    ['a host name', 'localhost'],
    ['an IPv6 with two ::', '1::2::3'],
    ['a bad hex group', 'fe80::g/10'],
    ['only a prefix', '/8'],
  ])('refuses %s (%j) with PFM_ERR_OSC_CONFIG, quoting the entry', (_what, entry) => {
    const e = thrown(() => allowlist(['127.0.0.1', entry]));
    expect(e.code).toBe('PFM_ERR_OSC_CONFIG');
    expect(e.message).toContain('osc.allow');
    expect(e.message).toContain(`"${entry}"`);
  });

  // An entry that is not exactly `address` or `address/bits` must not be half-read: `10.0.0.0/` would
  // become /0 (every IPv4 source) and `/8/16` would lose its second part without a word.
  it.each([
    ['an empty prefix (read as /0: every IPv4 address)', '10.0.0.0/'],
    ['two prefixes (the second is ignored)', '10.0.0.0/8/16'],
    ['a mapped address with an octet over 255', '::ffff:300.1.2.3'],
  ])('refuses %s (%j) with PFM_ERR_OSC_CONFIG', (_what, entry) => {
    expect(thrown(() => allowlist([entry])).code).toBe('PFM_ERR_OSC_CONFIG');
  });

  // The `::ffff:a.b.c.d` form needs the same octet check as plain IPv4, or 999 wraps round into 231.
  it('keeps out a mapped address with an octet over 255', () => {
    expect(allowlist(['0.0.0.0/0'])('::ffff:999.0.0.1')).toBe(false);
    expect(allowlist(['231.0.0.0/8'])('::ffff:999.0.0.1')).toBe(false);
  });

  // RFC 4291 §2.2 (3): any IPv6 spelling may end in a dotted IPv4 address, not only `::ffff:a.b.c.d`.
  it('without an error factory, refuses with a plain RangeError', () => {
    expect(() => sharedAllowlist(['nope'])).toThrow(RangeError);
  });

  it('understands an IPv6 entry with a dotted IPv4 tail in any valid IPv6 spelling', () => {
    expect(allowlist(['0:0:0:0:0:ffff:127.0.0.1'])('127.0.0.1')).toBe(true);
    const loopback4 = allowlist(['0:0:0:0:0:ffff:127.0.0.0/104']);
    expect(loopback4('127.0.0.1')).toBe(true);
    expect(loopback4('::1')).toBe(false);
    expect(allowlist(['64:ff9b::192.0.2.1'])('64:ff9b::c000:201')).toBe(true);
  });

  // The check runs on every packet, with sources as node reports them: a link-local source carries a
  // zone id (RFC 4007 §11), which may follow '::' directly. It must answer, never throw.
  it('never throws for an address node:net accepts as IPv6 (zone ids included)', () => {
    const allowed = allowlist(['fe80::/10']);
    expect(() => allowed('fe80::%eth0')).not.toThrow();
    expect(allowed('fe80::%eth0')).toBe(true);
    expect(allowlist(['::1'])('::%1')).toBe(false);
  });
});
