import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { compilePattern, isValidAddress } from '../../../../adapters/osc/pattern.js';

const matches = (pattern: string, address: string): boolean => compilePattern(pattern)(address);

describe('OSC address patterns', () => {
  const table: [string, string[], string[]][] = [
    ['/beat', ['/beat'], ['/beat/', '/bea', '/beats', '/Beat', '']],
    ['/*', ['/a', '/beat', '/'], ['/a/b', 'x']],
    [
      '/synth/*/freq',
      ['/synth/1/freq', '/synth//freq', '/synth/abc/freq'],
      ['/synth/1/2/freq', '/synth/1/fre'],
    ],
    ['/a*b', ['/ab', '/axxb', '/abab'], ['/a/b', '/a/xb', '/abc']],
    ['/*a*a*b', ['/aab', '/xaxaxb', '/aaaaab'], ['/ab', '/aaa', '/aa/b']],
    ['/?', ['/a', '/?'], ['/', '/ab', '//']],
    ['/a?c', ['/abc', '/a-c'], ['/a/c', '/ac', '/abbc']],
    ['/ch[0-9]', ['/ch0', '/ch5', '/ch9'], ['/cha', '/ch10', '/ch']],
    ['/ch[a-cx]', ['/cha', '/chc', '/chx'], ['/chd', '/chy']],
    ['/ch[!0-9]', ['/cha', '/ch-'], ['/ch1', '/ch/', '/ch']],
    ['/x[-a]', ['/x-', '/xa'], ['/xb']],
    ['/x[a-]', ['/x-', '/xa'], ['/xb']],
    ['/x[+-0]', ['/x+', '/x.', '/x0'], ['/x/']],
    ['/{tempo,bpm}', ['/tempo', '/bpm'], ['/tem', '/bpmx', '/tempobpm', '/']],
    ['/{a,ab,abc}/x', ['/a/x', '/ab/x', '/abc/x'], ['/abcd/x', '/x']],
    [
      '/mix/{ch1,ch2}/*/[lr]',
      ['/mix/ch1/eq/l', '/mix/ch2/gain/r'],
      ['/mix/ch3/eq/l', '/mix/ch1/eq/c', '/mix/ch1/l'],
    ],
    ['/a**b', ['/ab', '/axb'], ['/a/b']],
    ['/*/*', ['/a/b', '//'], ['/a', '/a/b/c']],
    ['/a//b', ['/a//b'], ['/a/b', '/a/x/b']],
  ];
  for (const [pattern, yes, no] of table) {
    it(`${pattern} matches ${yes.join(' ')} and not ${no.join(' ')}`, () => {
      const m = compilePattern(pattern);
      for (const a of yes) expect(m(a), a).toBe(true);
      for (const a of no) expect(m(a), a).toBe(false);
    });
  }

  it('matches patterns with more than 31 NFA states the same way', () => {
    const long = `/${'x'.repeat(40)}`;
    const m = compilePattern(`${long}*/{alpha,beta,gamma}/[0-9]?/*z`);
    expect(m(`${long}/alpha/1a/z`)).toBe(true);
    expect(m(`${long}yy/gamma/9b/zzz`)).toBe(true);
    expect(m(`${long}/beta/1/z`)).toBe(false);
    expect(m(`${long}/delta/1a/z`)).toBe(false);
    expect(m(`${long}/alpha/1a/za`)).toBe(false);
    expect(m(`${long}/alpha/1a/b/z`)).toBe(false);
    expect(m(`/${'x'.repeat(39)}/alpha/1a/z`)).toBe(false);
    const stars = compilePattern(`/${'*a'.repeat(20)}*b`);
    expect(stars(`/${'a'.repeat(20)}b`)).toBe(true);
    expect(stars(`/${'a'.repeat(19)}b`)).toBe(false);
    const address = `/${'a'.repeat(65535)}`;
    const t0 = performance.now();
    expect(stars(address)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it("'*' and '?' never cross '/', not even negated classes", () => {
    expect(matches('/*', '/a/b')).toBe(false);
    expect(matches('/a*', '/a/')).toBe(false);
    expect(matches('/a?b', '/a/b')).toBe(false);
    expect(matches('/a[!x]b', '/a/b')).toBe(false);
    expect(matches('/a[!x]b', '/ayb')).toBe(true);
  });

  it('treats non-ASCII address characters as ordinary characters', () => {
    expect(matches('/*', '/ü')).toBe(true);
    expect(matches('/?', '/ü')).toBe(true);
    expect(matches('/[!a]', '/ü')).toBe(true);
    expect(matches('/[a-z]', '/ü')).toBe(false);
  });

  it('a matcher is reusable and independent of other matchers', () => {
    const a = compilePattern('/x/*');
    const b = compilePattern('/y/?');
    for (let k = 0; k < 3; k++) {
      expect(a('/x/1')).toBe(true);
      expect(b('/y/1')).toBe(true);
      expect(a('/y/1')).toBe(false);
    }
  });

  it('refuses malformed patterns with OscConfigError', () => {
    const bad: [string, RegExp][] = [
      ['', /is empty/],
      ['beat', /must start with '\/'/],
      ['/a[bc', /unclosed '\[' at index 2/],
      ['/a{b,c', /unclosed '\{' at index 2/],
      ['/a[]', /empty '\[\]' at index 2/],
      ['/a[!]', /empty '\[\]' at index 2/],
      ['/a[z-a]', /reversed range/],
      ['/a[/]', /holding '\/'/],
      ['/a{b,}', /empty alternative/],
      ['/a{}', /empty alternative/],
      ['/a{b/c,d}', /"\/" inside the '\{…\}' at index 2/],
      ['/a{b*,c}', /"\*" inside/],
      ['/a b', /" " at index 2/],
      ['/a#', /"#" at index 2/],
      ['/a,b', /"," at index 2/],
      ['/a]', /"\]" at index 2/],
      ['/a}', /"\}" at index 2/],
      ['/ü', /"ü" at index 1/],
    ];
    for (const [pattern, re] of bad) {
      let err: unknown;
      try {
        compilePattern(pattern);
      } catch (e) {
        err = e;
      }
      expect(err, pattern).toMatchObject({ code: 'PFM_ERR_OSC_CONFIG' });
      expect((err as Error).message, pattern).toMatch(re);
    }
  });

  it('matches a 64 KiB address against /*a*a*a*a*a*b without backtracking', () => {
    const m = compilePattern('/*a*a*a*a*a*b');
    const address = `/${'a'.repeat(65535)}`;
    m(address); // warm up
    let t0 = performance.now();
    expect(m(address)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(50);
    t0 = performance.now();
    expect(m(`${address.slice(0, -1)}b`)).toBe(true);
    expect(m(`/${'ab'.repeat(32767)}/b`)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(100);
  });
});

describe('isValidAddress', () => {
  it('accepts concrete addresses', () => {
    for (const a of ['/', '/beat', '/synth/1/freq', '/a-b_c.d~e!', '/A/B/C/123'])
      expect(isValidAddress(a), a).toBe(true);
  });

  it('refuses patterns, reserved and non-printable characters', () => {
    for (const a of [
      '',
      'beat',
      '/a b',
      '/a#',
      '/a*',
      '/a,b',
      '/a?',
      '/[a]',
      '/{a}',
      '/a]',
      '/a}',
      '/a\n',
      '/a\0',
      '/é',
      '/a\x7f',
    ]) {
      expect(isValidAddress(a), JSON.stringify(a)).toBe(false);
    }
    expect(isValidAddress(undefined as unknown as string)).toBe(false);
  });
});
