// Playground: chat with any model the key may use, streamed.
import { h, replace, errorBox, num } from "../dom.js";

export default {
  id: "playground",
  title: "Playground",
  render(root, { api }) {
    const model = h("select", { id: "play-model", name: "model" });
    const key = h("input", { id: "play-key", type: "password", placeholder: "the signed-in key", autocomplete: "off", spellcheck: "false" });
    const prompt = h("textarea", { id: "play-prompt", rows: "4", required: true }, "Say hello.");
    const send = h("button", { type: "submit", id: "play-send" }, "Send");
    const output = h("pre", { id: "play-output", class: "output" });
    const status = h("div", { id: "play-status" });
    const form = h(
      "form",
      { id: "play-form", class: "stack" },
      h("div", { class: "inline-form" }, h("label", {}, "Model", model), h("label", {}, "Call with key (optional)", key)),
      h("label", {}, "Message", prompt),
      h("div", {}, send),
    );
    replace(root, form, output, status);
    const loadModels = async () => {
      try {
        const models = await api.request("GET", "/v1/models", { key: key.value.trim() || undefined });
        replace(model, models.data.map((m) => h("option", { value: m.id }, m.id)));
      } catch (error) {
        replace(status, errorBox(error));
      }
    };
    key.addEventListener("change", loadModels);
    loadModels();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      replace(output);
      replace(status, h("p", { class: "muted" }, "Streaming…"));
      send.disabled = true;
      const started = performance.now();
      try {
        const usage = await api.streamChat(
          { model: model.value, messages: [{ role: "user", content: prompt.value }] },
          { key: key.value.trim() || undefined, onDelta: (text) => output.append(text) },
        );
        const ms = performance.now() - started;
        const tokens = usage ? ` · ${usage.prompt_tokens} in / ${usage.completion_tokens} out` : "";
        replace(status, h("p", { class: "ok", id: "play-done" }, `Done in ${num(ms)} ms${tokens}`));
      } catch (error) {
        replace(status, errorBox(error));
      } finally {
        send.disabled = false;
      }
    });
  },
};
