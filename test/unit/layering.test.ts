import { describe, expect, it } from 'vitest';
import { checkFile, checkProject, importsOf, projectRoot, sourceFiles } from '../helpers/layering.js';

describe('layering (DESIGN.md, "Rules of the house")', () => {
  it('holds for every source file of the project', () => {
    const root = projectRoot();
    expect(sourceFiles(root, ['daemon']).length).toBeGreaterThan(5);
    expect(checkProject(root)).toEqual([]);
  });

  it('reads static, re-export, dynamic and side-effect imports', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export * from './c.js';",
      "export { d } from 'd-pkg';",
      "const e = await import('node:dgram');",
      "import 'side-effect';",
      'import {\n  multi,\n  line,\n} from "multi-line";',
    ].join('\n');
    expect(importsOf(src)).toEqual([
      './a.js',
      '../b.js',
      './c.js',
      'd-pkg',
      'node:dgram',
      'side-effect',
      'multi-line',
    ]);
  });

  it('catches each kind of crossing', () => {
    const rules = (file: string, src: string) => checkFile(file, src).map((v) => v.rule);
    expect(rules('daemon/bus/message-bus.ts', "import { createSocket } from 'node:dgram';")).toHaveLength(1);
    expect(rules('daemon/bus/message-bus.ts', "import x from '../../adapters/osc/codec.js';")).toHaveLength(
      1,
    );
    expect(rules('daemon/bus/message-bus.ts', "import { API } from '../api/server.js';")).toHaveLength(1);
    expect(rules('daemon/bus/message-bus.ts', "import { E } from '../kernel/errors.js';")).toEqual([]);
    expect(rules('daemon/bus/message-bus.ts', "import { S } from '../kernel/scheduler.js';")).toHaveLength(1);
    expect(rules('daemon/kernel/part.ts', "import { M } from '../bus/index.js';")).toEqual([]);
    expect(rules('daemon/kernel/part.ts', "import { D } from '../daemon.js';")).toContain(
      'the kernel imports only the bus, the kernel and config types: nothing of the composition root',
    );
    expect(rules('daemon/kernel/scheduler.ts', "import { createSocket } from 'node:dgram';")).toContain(
      'the kernel does no I/O',
    );
    expect(rules('adapters/osc/metrics.ts', "import { m } from '../../daemon/metrics.js';")).toContain(
      'nothing imports a root file of daemon/ (the composition root): shared pieces live in daemon/kernel',
    );
    expect(rules('daemon/api/server.ts', "import { p } from '../parts.js';")).toHaveLength(1);
    expect(rules('config/load.ts', "import { E } from '../daemon/kernel/errors.js';")).toEqual([]);
    expect(rules('daemon/daemon.ts', "import { p } from './parts.js';")).toEqual([]);
    expect(
      rules('agents/bass/bass.ts', "import { send } from '../../adapters/midi/transport.js';"),
    ).toContain('an agent never imports an adapter');
    expect(rules('agents/bass/bass.ts', "import osc from 'osc';")).toContain(
      'only adapters/ import wire-format and device packages',
    );
    expect(rules('agents/bass/bass.ts', "import { MessageBus } from '../../daemon/bus/index.js';")).toEqual(
      [],
    );
    expect(rules('daemon/api/routes.ts', "import { Midi } from 'easymidi';")).toHaveLength(1);
    expect(rules('adapters/osc/transport.ts', "import osc from 'osc';")).toEqual([]);
    expect(rules('adapters/osc/transport.ts', "import { m } from '../midi/codec.js';")).toContain(
      'an adapter never imports another adapter',
    );
    expect(
      rules('daemon/api/routes.ts', "import { t } from '../../adapters/osc/transport.js';"),
    ).toHaveLength(1);
  });
});
