/**
 * The example page's script (window thread): checks cross-origin isolation, then runs the example machine
 * (demo.js) with the page's canvas and counters. `window.demo` is a promise of the run's result, for tests.
 * Query parameters: smp, frames, width, height, maxIter, frameDelayMs (numbers), tint=1.
 */
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const logBox = $('log');
const log = (text) => {
  logBox.textContent += `${text}\n`;
};

const isolated = globalThis.crossOriginIsolated === true;
$('isolation').innerHTML = isolated
  ? '<span class="ok">crossOriginIsolated: SharedArrayBuffer is available.</span>'
  : '<span class="bad">Not cross-origin isolated: serve this page with COOP same-origin and COEP require-corp (npm run serve).</span>';
if (params.get('tint') === '1') $('tint').checked = true;

const numeric = (name) => (params.has(name) ? Number(params.get(name)) : undefined);

/** The machine of the run in progress, for the stop button. */
let current = null;

async function run() {
  // Imported here, not at the top: without isolation the library's import fails, and the page says why.
  const { runDemo } = await import('./demo.js');
  $('stop').disabled = false;
  $('again').disabled = true;
  const pending = runDemo({
    smp: numeric('smp'),
    frames: numeric('frames'),
    width: numeric('width'),
    height: numeric('height'),
    maxIter: numeric('maxIter'),
    frameDelayMs: numeric('frameDelayMs'),
    canvas: $('screen'),
    bars: $('cpus'),
    tint: () => $('tint').checked,
    log,
    onStart: (machine) => {
      current = machine;
    },
  });
  const result = await pending;
  for (const c of result.created)
    log(`main loop: CPU ${c.index} created (thread ${c.tid}) after ${c.waits} cond wait(s)`);
  for (const j of result.joined) log(`main loop: qemu_thread_join(CPU ${j.index}) -> ${JSON.stringify(j)}`);
  $('stop').disabled = true;
  $('again').disabled = false;
  return result;
}

$('again').addEventListener('click', () => {
  logBox.textContent = '';
  window.demo = run();
});
$('stop').addEventListener('click', async () => {
  // qemu_sem_post never blocks, so the window may call it: the main loop ends the zoom at its next frame.
  const { qemu_sem_post } = await import('../dist/index.js');
  if (current) qemu_sem_post(current.stop);
});

window.demo = isolated ? run() : Promise.reject(new Error('the page is not cross-origin isolated'));
window.demo.catch((error) => log(`error: ${error?.stack ?? error}`));
