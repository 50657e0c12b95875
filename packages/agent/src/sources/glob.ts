/**
 * Include/exclude patterns of `files` sources, in the familiar .gitignore spirit:
 * `*` and `?` stay within a path segment, `**` crosses segments, `[abc]`/`[!abc]` and `{a,b}` work;
 * a pattern without `/` matches a name at any depth (`*.log`, `cache`), one with `/` is anchored at
 * the source folder (`logs/**`, `/secrets.yaml`). A pattern that matches a folder covers what it holds.
 * (node's path.matchesGlob is still experimental in Node 20 and warns on every process.)
 */

function toRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end === -1) re += '\\{';
      else {
        re += `(?:${glob.slice(i + 1, end).split(',').map((alt) => toRegExp(alt).source.slice(1, -1)).join('|')})`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export class PathMatcher {
  private readonly anchored: RegExp[] = [];
  private readonly names: RegExp[] = [];

  constructor(patterns: string[]) {
    for (const raw of patterns) {
      const p = raw.replace(/\/+$/, '');
      if (!p) continue;
      if (p.includes('/')) this.anchored.push(toRegExp(p.replace(/^\/+/, '')));
      else this.names.push(toRegExp(p));
    }
  }

  get empty(): boolean {
    return this.anchored.length === 0 && this.names.length === 0;
  }

  /** Whether `relPath` (with `/`) or one of the folders it is in matches a pattern. */
  matches(relPath: string): boolean {
    const parts = relPath.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.names.some((r) => r.test(parts[i - 1]!))) return true;
      if (this.anchored.some((r) => r.test(prefix))) return true;
    }
    return false;
  }
}
