/**
 * Group name -> its figures. New groups (osc, midi, clock, audio, api, analyzer) add one line here and a
 * module exporting `figures`; they are imported lazily so, e.g., `bench bus` never loads audio code.
 */
import type { Figure, GroupLoader } from './types.js';

export const groups: Readonly<Record<string, GroupLoader>> = {
  bus: async () => (await import('./bus.js')).figures,
  api: async () => (await import('./api.js')).figures,
  daemon: async () => (await import('./daemon.js')).figures,
  osc: async () => (await import('./osc.js')).figures,
  clock: async () => (await import('./clock.js')).figures,
  audio: async () => (await import('./audio.js')).figures,
  midi: async () => (await import('./midi.js')).figures,
  analyzer: async () => (await import('./analyzer.js')).figures,
  ui: async () => (await import('./ui.js')).figures,
};

/** The figures of the given groups, in registry order within each group. */
export async function loadFigures(groupNames: readonly string[]): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const name of groupNames) {
    const load = groups[name];
    if (load === undefined)
      throw new Error(`unknown group "${name}"; known: ${Object.keys(groups).join(', ')}`);
    out.push(...(await load()));
  }
  return out;
}

/** Finds one figure by its full name (`bus.throughput`): the group is the part before the first dot. */
export async function findFigure(name: string): Promise<Figure> {
  const group = name.split('.')[0] ?? '';
  const figure = (await loadFigures([group])).find((f) => f.name === name);
  if (figure === undefined) throw new Error(`unknown figure "${name}"`);
  return figure;
}
