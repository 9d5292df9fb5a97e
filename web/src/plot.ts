/** A small live plot of a numeric resource: the last minutes of values on a canvas, no library. */
import { h } from './dom.js';
import { PLOT_WINDOW_MS, type Point } from './state.js';

const WIDTH = 168;
const HEIGHT = 40;
/** The shortest time axis: five seconds. */
const MIN_SPAN_MS = 5_000;

export class Sparkline {
  readonly element: HTMLCanvasElement;
  readonly #label: string;

  constructor(label: string) {
    this.#label = label;
    this.element = h('canvas', { class: 'plot', role: 'img', width: WIDTH, height: HEIGHT });
  }

  draw(points: readonly Point[], now = Date.now()): void {
    const canvas = this.element;
    const ratio = Math.max(1, Math.round(window.devicePixelRatio || 1));
    if (canvas.width !== WIDTH * ratio) {
      canvas.width = WIDTH * ratio;
      canvas.height = HEIGHT * ratio;
    }
    const context = canvas.getContext('2d');
    if (!context) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, WIDTH, HEIGHT);

    // The last minutes at most; less while the history is shorter, so that the first values spread out.
    const span = Math.min(PLOT_WINDOW_MS, Math.max(MIN_SPAN_MS, now - (points[0]?.t ?? now)));
    const start = now - PLOT_WINDOW_MS;
    // The last point before the window too, so the line enters from the left edge.
    const firstInside = points.findIndex((p) => p.t >= start);
    const shown = firstInside < 0 ? points.slice(-1) : points.slice(Math.max(0, firstInside - 1));
    const inside = firstInside < 0 ? [] : points.slice(firstInside);
    canvas.dataset['points'] = String(inside.length);
    if (shown.length === 0) {
      canvas.setAttribute('aria-label', `${this.#label}: no values in the last ${PLOT_WINDOW_MS / 60_000} minutes`);
      return;
    }

    const values = shown.map((p) => p.v);
    let min = Math.min(...values);
    let max = Math.max(...values);
    const last = shown.at(-1) as Point;
    canvas.setAttribute(
      'aria-label',
      `${this.#label}: ${inside.length} values in the last ${PLOT_WINDOW_MS / 60_000} minutes, from ${min} to ${max}, last ${last.v}`,
    );
    if (min === max) {
      const margin = Math.abs(min) * 0.05 || 1;
      min -= margin;
      max += margin;
    }

    const style = getComputedStyle(canvas);
    const left = 2;
    const top = 4;
    const plotWidth = WIDTH - left - 4;
    const plotHeight = HEIGHT - top - 4;
    const x = (t: number) => left + ((Math.max(t, now - span) - (now - span)) / span) * plotWidth;
    const y = (v: number) => top + (1 - (v - min) / (max - min)) * plotHeight;

    context.strokeStyle = style.getPropertyValue('--plot-grid').trim() || '#ccc';
    context.lineWidth = 1;
    context.beginPath();
    context.moveTo(left, HEIGHT - 3.5);
    context.lineTo(WIDTH - 4, HEIGHT - 3.5);
    context.stroke();

    context.strokeStyle = style.color;
    context.lineWidth = 1.5;
    context.lineJoin = 'round';
    context.beginPath();
    shown.forEach((p, index) => (index === 0 ? context.moveTo(x(p.t), y(p.v)) : context.lineTo(x(p.t), y(p.v))));
    // A flat line to now: the value still holds.
    context.lineTo(x(now), y(last.v));
    context.stroke();

    context.fillStyle = style.color;
    for (const p of inside) {
      context.beginPath();
      context.arc(x(p.t), y(p.v), 1.6, 0, Math.PI * 2);
      context.fill();
    }
  }
}
