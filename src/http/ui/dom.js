// Building elements without HTML strings: every value from the API becomes text.

const SVG = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** h("a", {href}, "text", child…): an HTML element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** A polite announcement for screen readers. */
export function announce(text) {
  const status = document.getElementById("status");
  if (status) status.textContent = text;
}

/** A labelled select: [wrapper, select]. `options`: [{value, label, group?}]. */
export function labelledSelect(id, label, options, selected, extra = {}) {
  const select = h("select", { id, name: id, ...extra });
  let group = null;
  let groupName;
  for (const o of options) {
    const option = h("option", { value: o.value }, o.label);
    if (o.value === selected) option.selected = true;
    if (o.group !== undefined) {
      if (o.group !== groupName) {
        groupName = o.group;
        group = h("optgroup", { label: o.group });
        select.append(group);
      }
      group.append(option);
    } else {
      select.append(option);
    }
  }
  return [h("div", {}, h("label", { for: id }, label), select), select];
}

/** A message in place of a view's content. */
export function message(text, kind = "notice") {
  return h("p", { class: kind, role: kind === "error" ? "alert" : null }, text);
}
