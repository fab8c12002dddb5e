/**
 * The little of the DOM that the browser tests' in-page probes touch. The root tsconfig is Node's (no DOM
 * lib), so probes cast `globalThis` to `PageGlobal`; the cast is erased and the code runs in the page.
 */
export interface ProbeStyle {
  color: string;
  backgroundColor: string;
  outlineStyle: string;
  outlineWidth: string;
  borderTopLeftRadius: string;
}

export interface ProbeElement {
  tagName: string;
  outerHTML: string;
  textContent: string | null;
  parentElement: ProbeElement | null;
  labels?: { length: number } | null;
  getAttribute(name: string): string | null;
}

export interface PageGlobal {
  document: {
    activeElement: unknown;
    querySelector(selector: string): ProbeElement | null;
    querySelectorAll(selector: string): Iterable<ProbeElement>;
  };
  getComputedStyle(element: unknown): ProbeStyle;
}
