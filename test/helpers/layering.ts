/**
 * The layering rules of DESIGN.md ("Rules of the house") and CONVENTIONS.md ("Boundaries"), checked on
 * the import statements of every source file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

/** Packages only adapters may import: they speak wire formats or own devices. */
const WIRE_PACKAGES = ['osc', 'easymidi', '@julusian/midi', 'node-web-audio-api'];
/** Modules that do I/O: sockets, files, processes, HTTP. */
const IO_MODULES = [
  'node:dgram',
  'node:net',
  'node:http',
  'node:https',
  'node:http2',
  'node:tls',
  'node:fs',
  'node:fs/promises',
  'node:child_process',
  'node:cluster',
  'node:worker_threads',
  'dgram',
  'net',
  'http',
  'fs',
  'child_process',
  'fastify',
  'ws',
  'pino',
];
/** What the bus may import besides its own files and daemon/kernel/errors.ts. */
const BUS_ALLOWED_PACKAGES = ['hdr-histogram-js', '@fastify/error'];

/**
 * A root file of daemon/: the composition root (daemon.ts, parts.ts, cli.ts and their helpers), which
 * knows every part. Nothing but another root file imports one (DESIGN.md, "The shape").
 */
function isRootFile(path: string): boolean {
  return /^daemon\/[^/]+\.(js|ts)$/.test(path);
}

/** What the kernel may import: itself, the bus, and the config's types. */
function isKernelImport(target: string): boolean {
  return (
    target.startsWith('daemon/kernel/') || target.startsWith('daemon/bus/') || target.startsWith('config/')
  );
}

export interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** The module specifiers a source text imports (static, re-export, dynamic, side-effect). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2] ?? m[3]) as string);
  return out;
}

const isPackage = (spec: string, names: string[]): boolean =>
  names.some((n) => spec === n || spec.startsWith(`${n}/`));

/** Checks one file (path relative to the project root, posix separators) against the rules. */
export function checkFile(file: string, source: string): Violation[] {
  const violations: Violation[] = [];
  const layer = file.split('/')[0];
  const inBus = file.startsWith('daemon/bus/');
  const inApi = file.startsWith('daemon/api/');
  const inKernel = file.startsWith('daemon/kernel/');
  for (const specifier of importsOf(source)) {
    const target = specifier.startsWith('.')
      ? posix.normalize(posix.join(posix.dirname(file), specifier))
      : null;
    const bad = (rule: string): void => {
      violations.push({ file, specifier, rule });
    };
    if (target === null && isPackage(specifier, WIRE_PACKAGES) && layer !== 'adapters') {
      bad('only adapters/ import wire-format and device packages');
    }
    if (inBus) {
      if (target === null && !isPackage(specifier, BUS_ALLOWED_PACKAGES) && specifier !== 'node:events') {
        bad('daemon/bus imports no I/O module or outside package except its histogram and error helpers');
      }
      if (target !== null && !target.startsWith('daemon/bus/') && target !== 'daemon/kernel/errors.js') {
        bad('daemon/bus imports nothing of the daemon but daemon/kernel/errors');
      }
    }
    if (layer === 'agents') {
      if (target?.startsWith('adapters/')) bad('an agent never imports an adapter');
      if (target?.startsWith('daemon/api/')) bad('an agent never imports the API');
      if (target === null && isPackage(specifier, IO_MODULES))
        bad('agents do no I/O: sockets, files and timers come injected');
    }
    if (layer === 'adapters' && target !== null) {
      const own = file.split('/').slice(0, 2).join('/');
      if (target.startsWith('agents/')) bad('adapters never import agents');
      if (
        target.startsWith('adapters/') &&
        !target.startsWith(`${own}/`) &&
        !target.startsWith('adapters/shared/')
      ) {
        bad('an adapter never imports another adapter');
      }
      if (target.startsWith('daemon/api/')) bad('adapters never import the API');
    }
    if (inKernel && target !== null && !isKernelImport(target)) {
      bad('the kernel imports only the bus, the kernel and config types: nothing of the composition root');
    }
    if (inKernel && target === null && isPackage(specifier, IO_MODULES)) bad('the kernel does no I/O');
    if (target !== null && isRootFile(target) && !isRootFile(file)) {
      bad(
        'nothing imports a root file of daemon/ (the composition root): shared pieces live in daemon/kernel',
      );
    }
    if (inApi && target?.startsWith('adapters/'))
      bad('API routes never reach into an adapter: services are injected');
  }
  return violations;
}

/** Every .ts source file under the given top-level folders, relative to `root`. */
export function sourceFiles(root: string, folders: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts')) out.push(relative(root, full).split('\\').join('/'));
    }
  };
  for (const f of folders) {
    try {
      walk(join(root, f));
    } catch {
      // A folder that does not exist yet has nothing to check.
    }
  }
  return out;
}

/** Checks every source file of the project. */
export function checkProject(root: string): Violation[] {
  return sourceFiles(root, ['daemon', 'adapters', 'agents', 'config']).flatMap((f) =>
    checkFile(f, readFileSync(join(root, f), 'utf8')),
  );
}

export const projectRoot = (): string => join(dirname(new URL(import.meta.url).pathname), '..', '..');
