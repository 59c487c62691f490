// The runner's Python: Pyodide and the cowlib wheel from this site's _runtime/, in a module
// Web Worker (Pyodide 314 refuses classic workers). cow-runner.js starts it on the first Run.
//
// To the page:  {type: "progress", stage, fetched, total}   stage: "fetching runtime",
//                                                          "starting Python", "loading cowlib"
//               {type: "ready", ms}                        Python and cowlib are loaded,
//                                                          ms after the worker was created
//               {type: "failed", error}                    they could not be loaded
//               {type: "result", id, html | error, ms}     the answer to one request
// From the page: {id, actions, preset, off: ["rule4", ...]}

const runtime = new URL("../_runtime/", import.meta.url);
let stage = "fetching runtime";
let fetched = 0;
let total = 0;

function progress(next) {
  if (next) stage = next;
  postMessage({ type: "progress", stage, fetched, total });
}

// Count the bytes of every response as it streams in, so the page can show how far along
// the runtime is. Pyodide fetches its files (and the wheel) with the global fetch.
const plainFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const response = await plainFetch(...args);
  if (!response.body) return response;
  let reported = 0;
  const counter = new TransformStream({
    transform(chunk, controller) {
      fetched += chunk.byteLength;
      if (stage === "fetching runtime" && fetched >= total) progress("starting Python");
      if (fetched - reported > 256 * 1024) {
        progress();
        reported = fetched;
      }
      controller.enqueue(chunk);
    },
  });
  const { status, statusText, headers } = response;
  return new Response(response.body.pipeThrough(counter), { status, statusText, headers });
};

// A module import bypasses fetch: count its size from files.json once it has arrived.
async function importCounted(name, sizes) {
  const module = await import(new URL(name, runtime).href);
  fetched += sizes[name];
  progress(stage === "fetching runtime" && fetched >= total ? "starting Python" : null);
  return module;
}

async function boot() {
  const files = await (await plainFetch(new URL("files.json", runtime))).json();
  total = Object.values(files.sizes).reduce((a, b) => a + b, 0);
  progress();
  // The same URL that loadPyodide imports: the module is fetched once.
  const [{ loadPyodide }] = await Promise.all([
    importCounted("pyodide.mjs", files.sizes),
    importCounted("pyodide.asm.mjs", files.sizes),
  ]);
  const quiet = () => {}; // cowlib.web prints nothing; this keeps Pyodide's own lines off
  const pyodide = await loadPyodide({ indexURL: runtime.href, stdout: quiet, stderr: quiet });
  progress("loading cowlib");
  // loadPackage reports a wheel it cannot load to errorCallback instead of throwing.
  const errors = [];
  await pyodide.loadPackage(new URL(files.wheel, runtime).href, {
    messageCallback: () => {},
    errorCallback: (message) => errors.push(message),
  });
  if (errors.length) throw new Error(errors.join("\n"));
  const build = pyodide.pyimport("cowlib.web").build;
  postMessage({ type: "ready", ms: performance.now() }); // since the worker was created
  return { pyodide, build };
}

const ready = boot();
ready.catch((error) => postMessage({ type: "failed", error: String(error.message || error) }));

onmessage = async ({ data }) => {
  let python;
  try {
    python = await ready;
  } catch {
    return; // "failed" is posted once, above
  }
  const start = performance.now();
  const off = python.pyodide.toPy(data.off);
  let result;
  try {
    const answer = python.build(data.actions, data.preset, off);
    result = answer.toJs({ dict_converter: Object.fromEntries });
    answer.destroy();
  } catch (error) {
    result = { error: `cowlib failed: ${error.message || error}` };
  } finally {
    off.destroy();
  }
  postMessage({ type: "result", id: data.id, ...result, ms: performance.now() - start });
};
