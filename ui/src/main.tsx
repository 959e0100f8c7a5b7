/**
 * The stage dashboard (issue #12), served by the daemon under /ui and talking to it over its REST
 * routes and /stream on the same origin, like any other client.
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { App } from './app.js';
import { Store } from './store.js';

const store = new Store('');
const root = document.getElementById('app');
if (root !== null) {
  // The "Loading…" line the HTML holds until the script runs (render would add beside it, not replace it).
  root.replaceChildren();
  render(<App store={store} />, root);
}
void store.start();
