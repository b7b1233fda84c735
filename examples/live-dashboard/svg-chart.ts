// Accessible inline SVG charts for the live dashboard, with no library: the server serves this
// module compiled, like the rest of the page (no CDN, nothing to install). Each chart is a
// <figure> holding an <svg role="img"> named by its <title> and summarized by its <desc>, every
// mark with its own <title> (a tooltip, read by screen readers on focus), and the numbers as a
// table in a <details> beside it: what the picture shows is also there as text.

const SVG = 'http://www.w3.org/2000/svg';

export interface Bar {
  label: string;
  value: number;
}

export interface StackedRow {
  label: string;
  segments: { name: string; value: number }[];
}

function svg<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function html<K extends keyof HTMLElementTagNameMap>(name: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(name);
  if (text !== undefined) element.textContent = text;
  if (className) element.className = className;
  return element;
}

/** The figure's frame: caption, an <svg role="img"> with title and description, the data table. */
function frame(figure: HTMLElement, title: string, description: string, width: number, height: number, table: HTMLTableElement): SVGSVGElement {
  const id = figure.id || 'chart';
  const picture = svg('svg', { role: 'img', viewBox: `0 0 ${width} ${height}`, width: '100%', 'aria-labelledby': `${id}-title ${id}-desc` });
  picture.append(svg('title', { id: `${id}-title` }, title), svg('desc', { id: `${id}-desc` }, description));
  const details = html('details');
  details.append(html('summary', 'Data table'), table);
  figure.replaceChildren(html('figcaption', title), picture, details);
  return picture;
}

function dataTable(head: string[], rows: (string | number)[][]): HTMLTableElement {
  const table = html('table');
  const headRow = html('tr');
  headRow.append(...head.map((h) => html('th', h)));
  const body = html('tbody');
  body.append(
    ...rows.map((row) => {
      const tr = html('tr');
      tr.append(...row.map((cell) => html('td', String(cell))));
      return tr;
    }),
  );
  table.append(html('thead'), body);
  table.tHead!.append(headRow);
  return table;
}

/** A column chart of values over labelled slots (messages per minute). */
export function renderColumns(figure: HTMLElement, options: { title: string; unit: string; bars: Bar[] }): void {
  const { bars, unit } = options;
  const width = 600;
  const height = 160;
  const top = 16;
  const bottom = 20;
  const left = 28;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const total = bars.reduce((sum, b) => sum + b.value, 0);
  const peak = bars.reduce<Bar | undefined>((best, b) => (!best || b.value > best.value ? b : best), undefined);
  const description = bars.length
    ? `${total} ${unit} in ${bars.length} slots from ${bars[0].label} to ${bars[bars.length - 1].label}; the most, ${peak!.value}, at ${peak!.label}.`
    : 'No data.';
  const picture = frame(figure, options.title, description, width, height, dataTable(['Time', unit], bars.map((b) => [b.label, b.value])));
  picture.dataset.total = String(total);
  const step = (width - left) / Math.max(1, bars.length);
  const plot = height - top - bottom;
  const marks = svg('g', { class: 'marks' });
  bars.forEach((bar, i) => {
    const h = (bar.value / max) * plot;
    const rect = svg('rect', { x: left + i * step + 1, y: top + plot - h, width: Math.max(1, step - 2), height: Math.max(h, bar.value ? 1 : 0), 'data-label': bar.label, 'data-value': bar.value });
    rect.append(svg('title', {}, `${bar.label}: ${bar.value} ${unit}`));
    marks.append(rect);
  });
  const axis = svg('g', { class: 'axis', 'aria-hidden': 'true' });
  axis.append(
    svg('line', { x1: left, y1: top + plot, x2: width, y2: top + plot }),
    svg('text', { x: left - 4, y: top + 4, 'text-anchor': 'end' }, String(max)),
    svg('text', { x: left - 4, y: top + plot, 'text-anchor': 'end' }, '0'),
    ...(bars.length
      ? [
          svg('text', { x: left, y: height - 4 }, bars[0].label),
          svg('text', { x: width, y: height - 4, 'text-anchor': 'end' }, bars[bars.length - 1].label),
        ]
      : []),
  );
  picture.append(marks, axis);
}

/** Horizontal stacked bars, one per row (sync states per node), with a legend. */
export function renderStacked(figure: HTMLElement, options: { title: string; names: string[]; rows: StackedRow[] }): void {
  const { rows, names } = options;
  const width = 600;
  const rowHeight = 22;
  const left = 110;
  const legend = 24;
  const height = legend + Math.max(1, rows.length) * rowHeight;
  const total = (row: StackedRow) => row.segments.reduce((sum, s) => sum + s.value, 0);
  const max = Math.max(1, ...rows.map(total));
  const description = rows.length
    ? rows.map((row) => `${row.label}: ${row.segments.map((s) => `${s.value} ${s.name.toLowerCase()}`).join(', ')}`).join('; ')
    : 'No node has reported.';
  const picture = frame(
    figure,
    options.title,
    description,
    width,
    height,
    dataTable(['Node', ...names], rows.map((row) => [row.label, ...names.map((n) => row.segments.find((s) => s.name === n)?.value ?? 0)])),
  );
  const key = svg('g', { class: 'legend', 'aria-hidden': 'true' });
  names.forEach((name, i) => {
    key.append(svg('rect', { x: left + i * 110, y: 4, width: 12, height: 12, class: `status-${name}` }), svg('text', { x: left + i * 110 + 16, y: 15 }, name.toLowerCase()));
  });
  picture.append(key);
  rows.forEach((row, r) => {
    const y = legend + r * rowHeight;
    const group = svg('g', { class: 'row', 'data-node': row.label });
    group.append(svg('text', { x: left - 6, y: y + 15, 'text-anchor': 'end' }, row.label));
    let x = left;
    for (const segment of row.segments) {
      if (!segment.value) continue;
      const w = (segment.value / max) * (width - left);
      const rect = svg('rect', { x, y: y + 3, width: w, height: rowHeight - 6, class: `status-${segment.name}`, 'data-status': segment.name, 'data-value': segment.value });
      rect.append(svg('title', {}, `${row.label}: ${segment.value} ${segment.name.toLowerCase()}`));
      group.append(rect);
      x += w;
    }
    picture.append(group);
  });
}
