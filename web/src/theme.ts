export type Theme = 'light' | 'dark';

export function currentTheme(): Theme {
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

/** Switches theme, remembers it, and tells canvases and charts to re-read their colours. */
export function setTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem('billing-theme', theme);
  } catch {
    // private mode: the choice lasts for this page only
  }
  window.dispatchEvent(new Event('themechange'));
}
