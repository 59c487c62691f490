// "Edit and run" beside every player: edit its actions, pick a preset, turn rules off, Run.
// Run asks cowlib (Pyodide in the module worker cow-worker.mjs, started on the first Run)
// for a new player and puts it in place of the old one; on an error the old one stays.
// window.cowRunner (inline, from book/_ext/cowrunner.py): {presets, rules, playground, serve}.
// The playground page restores #actions=...&preset=...&off=rule1,rule4 and runs it.
(function () {
  "use strict";
  const config = window.cowRunner;
  const root = new URL("..", document.currentScript.src);
  const playground = new URL(config.playground, root);
  const runners = new Map(); // request id -> runner waiting for its answer
  let worker = null;
  let nextId = 0;
  let serial = 0;

  function element(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    node.append(...children);
    return node;
  }

  // "linux-5.11 without rule4+rule1" -> ["linux-5.11", ["rule4", "rule1"]]
  function parsePolicy(name) {
    const [preset, off] = name.split(" without ");
    const known = config.presets.includes(preset) ? preset : config.presets.at(-1);
    return [known, off ? off.split("+") : []];
  }

  function megabytes(bytes) {
    return (bytes / 1e6).toFixed(1);
  }

  function onMessage({ data }) {
    if (data.type === "result") {
      const runner = runners.get(data.id);
      runners.delete(data.id);
      if (runner) runner.answer(data);
      return;
    }
    for (const runner of new Set(runners.values())) runner.loading(data);
    if (data.type === "failed") {
      worker.terminate(); // the next Run starts a new worker
      worker = null;
      runners.clear();
    }
  }

  function ask(runner, request) {
    if (!worker) {
      worker = new Worker(new URL("_static/cow-worker.mjs", root), { type: "module" });
      worker.onmessage = onMessage;
      worker.onerror = (event) => {
        event.preventDefault();
        onMessage({ data: { type: "failed", error: event.message || "the worker stopped" } });
      };
    }
    const id = ++nextId;
    runners.set(id, runner);
    worker.postMessage({ id, ...request });
  }

  class Runner {
    constructor(player, open) {
      this.player = player;
      const n = ++serial;
      const [preset, off] = parsePolicy(player.querySelector(".cow-preset").value);
      this.actions = element("textarea", {
        id: `cow-run-actions-${n}`, rows: "2", spellcheck: "false", autocomplete: "off",
        "aria-describedby": `cow-run-error-${n}`,
      });
      this.actions.value = player.dataset.actions;
      this.preset = element("select", { id: `cow-run-preset-${n}` },
        ...config.presets.map((name) => element("option", { value: name }, name)));
      this.preset.value = preset;
      this.rules = Object.entries(config.rules).map(([name, summary]) => {
        const box = element("input", { type: "checkbox", value: name });
        box.checked = !off.includes(name);
        return element("label", { title: summary }, box, ` ${name}`);
      });
      this.run = element("button", { type: "submit" }, "Run");
      this.link = element("a", { class: "cow-run-link" }, "link to this scenario");
      this.error = element("div", { id: `cow-run-error-${n}`, class: "cow-run-error" });
      this.bar = element("progress", { max: "100", hidden: "", "aria-hidden": "true" });
      this.status = element("output", { class: "cow-run-status", "aria-live": "polite" });
      const form = element("form", { class: "cow-run-form" },
        element("label", { for: this.actions.id }, "actions"), this.actions, this.error,
        element("div", { class: "cow-run-row" },
          element("label", { for: this.preset.id }, "preset"), this.preset,
          element("fieldset", {}, element("legend", {}, "rules on"), ...this.rules),
          this.run, this.link),
        this.bar, this.status);
      this.root = element("details", { class: "cow-runner" },
        element("summary", {}, "Edit and run"), form);
      this.root.open = open;
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.submit();
      });
      form.addEventListener("input", () => this.updateLink());
      form.addEventListener("change", () => this.updateLink());
      player.after(this.root);
      this.updateLink();
    }

    request() {
      const off = this.rules.map((label) => label.firstChild)
        .filter((box) => !box.checked).map((box) => box.value);
      return { actions: this.actions.value, preset: this.preset.value, off };
    }

    updateLink() {
      const { actions, preset, off } = this.request();
      const hash = new URLSearchParams({ actions, preset });
      if (off.length) hash.set("off", off.join(","));
      this.link.href = `${playground.href}#${hash}`;
    }

    restore(hash) {
      const params = new URLSearchParams(hash.replace(/^#/, ""));
      if (!params.has("actions")) return false;
      this.actions.value = params.get("actions");
      if (config.presets.includes(params.get("preset"))) this.preset.value = params.get("preset");
      const off = (params.get("off") || "").split(",");
      for (const label of this.rules) label.firstChild.checked = !off.includes(label.firstChild.value);
      this.updateLink();
      return true;
    }

    say(text) {
      this.status.textContent = text;
    }

    showError(message) {
      const [first, ...rest] = message.split("\n");
      this.error.replaceChildren(element("strong", {}, first));
      if (rest.join("").trim()) {
        this.error.append(element("details", {},
          element("summary", {}, "the action language"), element("pre", {}, rest.join("\n"))));
      }
      this.actions.setAttribute("aria-invalid", "true");
    }

    clearError() {
      this.error.replaceChildren();
      this.actions.removeAttribute("aria-invalid");
    }

    submit() {
      if (location.protocol === "file:") {
        const page = location.href.slice(root.href.length);
        this.showError("The runner needs the book served over HTTP: browsers do not let " +
          `Python load from file://. In the book's folder run\n    ${config.serve}\n` +
          `and open http://localhost:8000/${page}`);
        this.error.querySelector("details").open = true;
        return;
      }
      this.run.disabled = true;
      this.say(worker ? "running\u2026" : "loading Python (the first Run only)\u2026");
      this.started = performance.now();
      ask(this, this.request());
    }

    loading(data) {
      if (data.type === "progress") {
        const percent = data.total ? Math.min(100, (100 * data.fetched) / data.total) : 0;
        this.bar.hidden = false;
        this.bar.value = data.stage === "fetching runtime" ? percent : 100;
        this.say(data.stage === "fetching runtime"
          ? `fetching the Python runtime: ${megabytes(data.fetched)} of ` +
            `${megabytes(data.total)} MB (${Math.floor(percent)}%)`
          : `${data.stage}\u2026`);
      } else if (data.type === "ready") {
        this.bar.hidden = true;
        this.root.dataset.readyMs = String(Math.round(data.ms));
        this.say(`Python ready in ${(data.ms / 1000).toFixed(1)} s; running\u2026`);
      } else if (data.type === "failed") {
        this.bar.hidden = true;
        this.run.disabled = false;
        this.say(`Python could not start: ${data.error}`);
      }
    }

    answer(data) {
      this.run.disabled = false;
      this.bar.hidden = true;
      this.root.dataset.runMs = String(data.ms);
      if (data.error) {
        this.showError(data.error);
        this.say(`not run: ${data.error.split("\n")[0]}`);
        return;
      }
      this.clearError();
      const fragment = document.createRange().createContextualFragment(data.html);
      const player = fragment.querySelector(".cow-player");
      this.player.replaceWith(fragment); // its script runs as it is inserted
      this.player = player;
      const outcomes = [...player.querySelectorAll(".cow-outcomes tr")]
        .map((row) => [...row.cells].map((cell) => cell.textContent.trim()).join(" "));
      this.say(`ran in ${Math.round(performance.now() - this.started)} ms: ${outcomes.join("; ")}`);
    }
  }

  function start() {
    const here = location.pathname === playground.pathname;
    const players = [...document.querySelectorAll(".cow-player[data-actions]")];
    const made = players.map((player, i) => new Runner(player, here && i === 0));
    if (!here || !made.length) return;
    const first = made[0];
    const fromHash = () => first.restore(location.hash) && (first.submit(), true);
    window.addEventListener("hashchange", () => fromHash() && first.player.scrollIntoView());
    fromHash();
  }

  start();
})();
