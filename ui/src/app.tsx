/** The page: top bar and alerts, then parts, bus, musical time, controls and traffic. */
import type { Store } from './store.js';
import { BusView } from './views/bus-view.js';
import { ControlsView } from './views/controls-view.js';
import { Alerts, Header } from './views/header.js';
import { MusicView } from './views/music-view.js';
import { PartsView } from './views/parts-view.js';
import { TokenDialog } from './views/token-dialog.js';
import { TrafficView } from './views/traffic-view.js';

export function App({ store }: { store: Store }) {
  return (
    <>
      <a class="skip" href="#controls-h">
        Skip to controls
      </a>
      <Header store={store} />
      <Alerts store={store} />
      <main>
        <PartsView store={store} />
        <MusicView store={store} />
        <ControlsView store={store} />
        <BusView store={store} />
        <TrafficView store={store} />
      </main>
      <TokenDialog store={store} />
    </>
  );
}
