// Search page: Pagefind's JS API behind our own accessible markup.
// A module script, so it never blocks rendering; without it the page says what to do.
const LABELS = { topic: "Topic", person: "Person" };
const PAGE_SIZE = 20;

const form = document.getElementById("search-form");
if (form) start(form);

async function start(form) {
  const status = document.getElementById("search-status");
  const list = document.getElementById("search-results");
  const input = form.elements.namedItem("q");
  let pagefind;
  try {
    pagefind = await import(form.dataset.bundle + "pagefind.js");
    await pagefind.options({ baseUrl: form.dataset.base, excerptLength: 28 });
    await pagefind.init();
  } catch (error) {
    status.textContent = "Search is not available: its index could not be loaded.";
    return;
  }
  document.getElementById("search-nojs").hidden = true;
  form.hidden = false;

  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  const filterBox = document.getElementById("search-filter-box");
  renderFilters(document.getElementById("search-filters"), await pagefind.filters(), params);
  filterBox.hidden = !filterBox.querySelector("fieldset");
  filterBox.open = Object.keys(chosenFilters(form)).length > 0;

  let latest = 0;
  let timer = 0;
  async function run() {
    const ticket = ++latest;
    const query = input.value.trim();
    const filters = chosenFilters(form);
    updateAddress(query, filters);
    if (!query && !Object.keys(filters).length) {
      status.textContent = "";
      list.replaceChildren();
      return;
    }
    const search = await pagefind.search(query || null, { filters });
    const data = await Promise.all(search.results.slice(0, PAGE_SIZE).map((r) => r.data()));
    if (ticket !== latest) return; // a newer search has started
    list.replaceChildren(...data.map(resultItem));
    status.textContent = summary(search.results.length, data.length, query);
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    run();
  });
  input.addEventListener("input", later);
  form.addEventListener("change", (event) => {
    if (event.target.type === "checkbox") run();
  });
  if (input.value || Object.keys(chosenFilters(form)).length) run();
}

function renderFilters(container, filters, params) {
  for (const [name, values] of Object.entries(filters)) {
    const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
    if (!entries.length) continue;
    const chosen = params.getAll(name);
    const fieldset = element("fieldset");
    fieldset.append(element("legend", LABELS[name] || name));
    for (const [value, count] of entries) {
      const label = element("label");
      const checkbox = element("input");
      Object.assign(checkbox, { type: "checkbox", name, value, checked: chosen.includes(value) });
      label.append(checkbox, ` ${value} `, element("span", `(${count})`, "count"));
      fieldset.append(label);
    }
    container.append(fieldset);
  }
}

function chosenFilters(form) {
  const filters = {};
  for (const box of form.querySelectorAll("input[type=checkbox]:checked")) {
    (filters[box.name] ||= []).push(box.value);
  }
  return filters;
}

function updateAddress(query, filters) {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  for (const [name, values] of Object.entries(filters)) {
    for (const value of values) params.append(name, value);
  }
  const search = params.toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

function summary(total, shown, query) {
  const what = query ? ` for “${query}”` : "";
  if (!total) return `No articles found${what}. Try other words, or fewer filters.`;
  const count = `${total} article${total === 1 ? "" : "s"} found${what}`;
  return shown < total ? `${count}; showing the first ${shown}.` : `${count}.`;
}

function resultItem(result) {
  const item = element("li");
  const heading = element("h2");
  const link = element("a", result.meta.title || result.url);
  link.href = result.url;
  heading.append(link);
  item.append(heading);
  const about = [result.meta.date, ...(result.filters.topic || [])].filter(Boolean);
  if (about.length) item.append(element("p", about.join(" · "), "meta"));
  const excerpt = element("p");
  excerpt.append(...markedText(result.excerpt));
  item.append(excerpt);
  return item;
}

// The excerpt is HTML with <mark> around matches: keep the marks, turn the rest into text.
function markedText(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  return Array.from(template.content.childNodes, (node) =>
    node.nodeName === "MARK" ? element("mark", node.textContent) : document.createTextNode(node.textContent));
}

function element(name, text, className) {
  const node = document.createElement(name);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}
