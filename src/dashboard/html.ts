// Text into HTML, for every string the dashboard draws (client.ts and its panels).

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const esc = (value: unknown) => String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
