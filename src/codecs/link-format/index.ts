/**
 * CoRE Link Format (RFC 6690, content format 40): the body of an LwM2M
 * registration (`</1/0>,</3/0>;ver=1.1`) and of a Discover response.
 *
 * Parsing is liberal (whitespace and line breaks between links, links without
 * a leading slash are the caller's business, attributes without values);
 * formatting is exact.
 */

/** An attribute without a value (`;obs`) is `true`. */
export type LinkAttributeValue = string | true;

export interface Link {
  readonly uri: string;
  readonly attributes: Readonly<Record<string, LinkAttributeValue>>;
}

export class LinkFormatError extends Error {
  override readonly name = 'LinkFormatError';
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`invalid link-format at character ${offset}: ${reason}`);
  }
}

// RFC 5987 parmname / RFC 6690 §2 ptoken characters.
const PARMNAME = /[A-Za-z0-9!#$&+\-.^_`|~*]/;
const PTOKEN = /[!#$%&'()*+\-./:<=>?@[\]^_`{|}~A-Za-z0-9]/;

/** Throws LinkFormatError. An empty or blank text is an empty list. */
export function parseLinkFormat(text: string): Link[] {
  const links: Link[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  skipSpace();
  while (i < text.length) {
    if (text[i] !== '<') throw new LinkFormatError(i, `expected "<" but found "${text[i]}"`);
    const close = text.indexOf('>', i + 1);
    if (close < 0) throw new LinkFormatError(i, 'unterminated "<"');
    const uri = text.slice(i + 1, close).trim();
    i = close + 1;
    const attributes: Record<string, LinkAttributeValue> = {};
    skipSpace();
    while (text[i] === ';') {
      i++;
      skipSpace();
      const nameStart = i;
      while (i < text.length && PARMNAME.test(text[i] as string)) i++;
      if (i === nameStart) throw new LinkFormatError(i, 'expected an attribute name');
      const name = text.slice(nameStart, i);
      skipSpace();
      let value: LinkAttributeValue = true;
      if (text[i] === '=') {
        i++;
        skipSpace();
        if (text[i] === '"') {
          let quoted = '';
          i++;
          for (;;) {
            if (i >= text.length) throw new LinkFormatError(i, `unterminated quoted value of "${name}"`);
            const ch = text[i] as string;
            if (ch === '\\' && i + 1 < text.length) {
              quoted += text[i + 1];
              i += 2;
            } else if (ch === '"') {
              i++;
              break;
            } else {
              quoted += ch;
              i++;
            }
          }
          value = quoted;
        } else {
          const valueStart = i;
          while (i < text.length && PTOKEN.test(text[i] as string)) i++;
          value = text.slice(valueStart, i);
        }
      }
      attributes[name] = value;
      skipSpace();
    }
    links.push({ uri, attributes });
    if (i >= text.length) break;
    if (text[i] !== ',') throw new LinkFormatError(i, `expected "," or ";" but found "${text[i]}"`);
    i++;
    skipSpace();
  }
  return links;
}

export function formatLinkFormat(links: readonly Link[]): string {
  return links
    .map((link) => {
      let out = `<${link.uri}>`;
      for (const [name, value] of Object.entries(link.attributes)) {
        out += value === true ? `;${name}` : `;${name}=${formatValue(value)}`;
      }
      return out;
    })
    .join(',');
}

function formatValue(value: string): string {
  if (value.length > 0 && [...value].every((ch) => PTOKEN.test(ch))) return value;
  return `"${value.replace(/["\\]/g, (ch) => `\\${ch}`)}"`;
}
