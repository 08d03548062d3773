/* global document, FormData, URLSearchParams */
/** DOM helpers: every value reaches the page as text or attribute, never as HTML. */

export const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

/** `el('li', { 'data-testid': 'x' }, 'text', child)`: text children become text nodes. */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined && value !== null && value !== false) element.setAttribute(name, String(value));
  for (const child of children) if (child !== null && child !== undefined) element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return element;
}

export function formValues(form) {
  return Object.fromEntries([...new URLSearchParams(new FormData(form))].map(([name, value]) => [name, value.trim()]));
}

/** Replaces a select's options, keeping the chosen value when it is still offered. */
export function fillSelect(select, options, emptyLabel) {
  const previous = select.value;
  const items = options.map(({ value, label }) => el('option', { value }, label));
  if (items.length === 0 && emptyLabel) items.push(el('option', { value: '' }, emptyLabel));
  select.replaceChildren(...items);
  if (options.some((option) => option.value === previous)) select.value = previous;
}

export const when = (iso) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso ?? '') : date.toLocaleString();
};
