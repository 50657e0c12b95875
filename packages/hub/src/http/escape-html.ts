/** HTML escaping for the server-rendered pages, in one place below the routes that render them. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
