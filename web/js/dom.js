// DOM helpers shared by every view: element lookup, element building, icons.
//
// The one rule that keeps the page safe with hostile stored data: text from the store reaches the
// DOM only as text (textContent, text nodes, attributes set from code). h() turns every string
// child into a text node, never into markup, and nothing in the page uses innerHTML.

export const $ = (id) => document.getElementById(id);

// Creates an element. props: {class, text, attrs: {name: value}, ...properties}. Children may be
// nodes or strings (strings become text nodes, never markup); null, undefined and false are
// skipped.
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name === 'attrs') for (const [a, v] of Object.entries(value)) node.setAttribute(a, v);
    else node[name] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

// Strings and nodes as nodes (strings as text), for replaceChildren().
export const asNodes = (parts) => parts.map((p) => (typeof p === 'string' ? document.createTextNode(p) : p));

// True when the event's target is a place the person types into (so single-key shortcuts must
// leave it alone).
export function isTypingTarget(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

const SVG_NS = 'http://www.w3.org/2000/svg';
// Icons are fixed path data from this file, never from stored data.
const ICONS = {
  folder: 'M3 6.5A1.5 1.5 0 0 1 4.5 5h4l2 2h5A1.5 1.5 0 0 1 17 8.5v6a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 3 14.5z',
  text: 'M6 3h6l4 4v10H6zM12 3v4h4M8.5 10.5h5M8.5 13.5h5',
  json: 'M8 4c-2 0-2 1.5-2 3s-1 2.5-2 3c1 .5 2 1.5 2 3s0 3 2 3M14 4c2 0 2 1.5 2 3s1 2.5 2 3c-1 .5-2 1.5-2 3s0 3-2 3',
  image: 'M4 5h14v12H4zM4 14l4-4 3 3 2-2 5 5M14 8.5a1 1 0 1 0 0 .01',
  binary: 'M6 3h6l4 4v10H6zM12 3v4h4M9 11v3M12.5 11h1v3h-1z',
};

// A row icon: 'folder', 'text', 'json', 'image' or 'binary' (anything else draws 'text').
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 22 20');
  svg.setAttribute('class', 'row-icon');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[name] || ICONS.text);
  path.setAttribute('fill', name === 'folder' ? 'currentColor' : 'none');
  path.setAttribute('fill-opacity', name === 'folder' ? '0.18' : '1');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '1.5');
  path.setAttribute('stroke-linejoin', 'round');
  path.setAttribute('stroke-linecap', 'round');
  svg.append(path);
  return svg;
}
